/** Largest up-front reservation (2 GiB of float32 = 9.3 h of 16 kHz audio); longer caps grow instead. */
const MAX_RESERVED_SAMPLES = 2 ** 29;

/**
 * Collects ffmpeg's f32le byte stream into one Float32Array without holding the audio twice.
 * The buffer is reserved for the longest allowed audio up front: the OS maps its zeroed pages
 * lazily, so only samples actually written cost memory, and the result is a view (no final copy).
 * Only caps above 9.3 h fall back to doubling (a transient second copy while it grows).
 */
export class PcmSink {
  private samples: Float32Array;
  private bytes: Uint8Array;
  private written = 0;
  private readonly maxBytes: number;

  constructor(maxSamples: number) {
    this.maxBytes = maxSamples * 4;
    this.samples = new Float32Array(Math.min(maxSamples, MAX_RESERVED_SAMPLES));
    this.bytes = new Uint8Array(this.samples.buffer);
  }

  /** false when the chunk would go past maxSamples (the audio is too long) */
  write(chunk: Uint8Array): boolean {
    const end = this.written + chunk.length;
    if (end > this.maxBytes) return false;
    if (end > this.bytes.length) this.grow(end);
    this.bytes.set(chunk, this.written);
    this.written = end;
    return true;
  }

  get sampleCount(): number {
    return Math.floor(this.written / 4);
  }

  /** The decoded samples (a view: no copy). */
  result(): Float32Array {
    return this.samples.subarray(0, this.sampleCount);
  }

  private grow(minBytes: number): void {
    const samples = new Float32Array(Math.min(this.maxBytes, Math.max(minBytes, this.bytes.length * 2)) / 4);
    new Uint8Array(samples.buffer).set(this.bytes.subarray(0, this.written));
    this.samples = samples;
    this.bytes = new Uint8Array(samples.buffer);
  }
}
