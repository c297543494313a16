/**
 * Import this BEFORE onnxruntime-node in jest tests.
 *
 * Jest runs each test file in its own vm context, whose typed-array constructors differ from the
 * main realm's. onnxruntime-node's native addon builds output data with the main realm's
 * Float32Array, and onnxruntime-common (loaded inside the test context) then rejects every output:
 * "A float32 tensor's data must be type of function Float32Array()". Pointing the context's
 * typed-array globals at the main realm's makes both sides agree. A no-op outside jest.
 */
import * as vm from 'vm';

const TYPED_ARRAYS = [
  'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array',
] as const;

const context = globalThis as unknown as Record<string, unknown>;
for (const name of TYPED_ARRAYS) {
  // runInThisContext evaluates in the main realm (the vm module's own), not jest's sandbox.
  const main: unknown = vm.runInThisContext(name);
  if (context[name] !== main) context[name] = main;
}

export {};
