/**
 * `npm run gpu-check`: is this host ready to transcribe on its GPU, and how much faster is it?
 *
 * 1. Builds the CUDA addon (scripts/build-native.js with WHISPER_CUDA=1) in build/gpu-check, a
 *    separate tree, so the CPU addon in build/native stays as it is (its CMake cache too).
 *    A toolkit without cuBLAS (nvcc alone) configures and then fails at linking: detected up front
 *    (and from the build output) and reported in one line, exit 1.
 * 2. Runs the service twice on the same Redis (DEVICE=cpu with the CPU addon, then DEVICE=cuda with
 *    the CUDA addon, ONNX alignment + diarization on onnxruntime's CUDA execution provider): jfk
 *    11 s, 5 min of speech, and jfk with align_words + diarize; prints CPU ÷ CUDA and peak GPU
 *    memory (nvidia-smi). Sized to finish in under 8 minutes on a GPU host.
 *
 * Flags: --skip-build (use an existing build/gpu-check addon), --build-anyway (build without cuBLAS,
 * to see the linker fail). Env: GPU_CHECK_RUNS (default 3), CMAKE_CUDA_ARCHITECTURES.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { JFK_WAV } from '../../test/support/samples';
import { freePort, postTranscribe, prepareRedis, REPO_ROOT, RunningProcess, startApi, startWorker, waitForHealthy } from '../../test/support/service-harness';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../../test/support/wav';
import { classifyBuildFailure, cudaArchitectures, cudaLibraryDirs, findCublas, NO_CUBLAS_MESSAGE } from './cuda-toolkit';
import { comparisonTable, DeviceComparison, median } from './report';
import { GPU_QUERY_ARGS, GpuMemory, parseGpuMemory, peakGpuMemory } from './nvidia-smi';

const MODEL = 'synthetic-tiny';
const SHADOW_ROOT = join(REPO_ROOT, 'build', 'gpu-check');
const CUDA_ADDON = join(SHADOW_ROOT, 'build', 'native', 'whisper_addon.node');
const BUILD_TIMEOUT_MS = 6 * 60_000;

class CheckFailed extends Error {}

const log = (message: string) => console.log(`[gpu-check] ${message}`);

function run(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.error || result.status !== 0 ? undefined : result.stdout;
}

function cublasOnThisHost(): string | undefined {
  const roots = ['/usr/local/cuda', ...(existsSync('/usr/local') ? readdirSync('/usr/local').filter((d) => d.startsWith('cuda-')).map((d) => `/usr/local/${d}`) : [])];
  const listing = new Map<string, string[]>();
  for (const dir of cudaLibraryDirs(process.env, roots)) {
    try {
      listing.set(dir, readdirSync(dir));
    } catch {
      // not there: skip
    }
  }
  return findCublas(listing, run('ldconfig', ['-p']) ?? '');
}

/**
 * build-native.js builds into <its root>/build/native; a root of symlinks (libs, node_modules) with
 * a copy of the script gives the CUDA build a tree of its own.
 */
function prepareShadowRoot(): string {
  mkdirSync(join(SHADOW_ROOT, 'scripts'), { recursive: true });
  for (const name of ['libs', 'node_modules']) {
    if (!existsSync(join(SHADOW_ROOT, name))) symlinkSync(join(REPO_ROOT, name), join(SHADOW_ROOT, name), 'dir');
  }
  const script = join(SHADOW_ROOT, 'scripts', 'build-native.js');
  cpSync(join(REPO_ROOT, 'scripts', 'build-native.js'), script);
  return script;
}

function buildCudaAddon(): Promise<void> {
  const script = prepareShadowRoot();
  const archs = process.env.CMAKE_CUDA_ARCHITECTURES ?? cudaArchitectures(run('nvidia-smi', ['--query-gpu=compute_cap', '--format=csv,noheader']) ?? '');
  const env = { ...process.env, WHISPER_CUDA: '1', ...(archs ? { CMAKE_CUDA_ARCHITECTURES: archs } : {}) };
  log(`building the CUDA addon in ${SHADOW_ROOT}${archs ? ` for CUDA architectures ${archs}` : ''}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-400_000);
      if (process.env.GPU_CHECK_VERBOSE) process.stdout.write(chunk);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      if (signal) return reject(new CheckFailed(`the CUDA build did not finish within ${BUILD_TIMEOUT_MS / 60_000} min (set CMAKE_CUDA_ARCHITECTURES to your GPU's only)`));
      reject(new CheckFailed(classifyBuildFailure(output).message));
    });
  });
}

function sampleGpuMemory(): GpuMemory[] {
  return parseGpuMemory(run('nvidia-smi', GPU_QUERY_ARGS) ?? '');
}

interface DeviceTimings {
  jfk: number[];
  fiveMinutes: number[];
  onnx: number[];
}

async function timeOne(base: string, audio: Buffer, fields: Record<string, string>): Promise<number> {
  const started = performance.now();
  const { status, body } = await postTranscribe(base, audio, { whisper_model: MODEL, allowed_languages: 'en', vad: 'false', ...fields });
  if (status !== 200) throw new Error(`service answered ${status}: ${JSON.stringify(body)}`);
  return performance.now() - started;
}

/** One API + one worker on `device`; warm-up first, then the timed runs. */
async function timeDevice(device: 'cpu' | 'cuda', runs: number, jfk: Buffer, fiveMinutes: Buffer): Promise<{ timings: DeviceTimings; output: string }> {
  await prepareRedis();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const workerEnv: Record<string, string> = { DEVICE: device, WHISPER_MODEL: MODEL, WHISPER_THREADS: String(os.availableParallelism()), MAX_AUDIO_SECONDS: '3600' };
  if (device === 'cuda') workerEnv.WHISPER_ADDON_PATH = CUDA_ADDON;
  const processes: RunningProcess[] = [startWorker(workerEnv), startApi(port, { MAX_UPLOAD_MB: '100', SYNC_TIMEOUT_S: '600' })];
  try {
    await waitForHealthy(base, 1);
    const onnxFields = { align_words: 'true', diarize: 'true' };
    await timeOne(base, jfk, {});
    await timeOne(base, jfk, onnxFields);
    const timings: DeviceTimings = { jfk: [], fiveMinutes: [], onnx: [] };
    for (let i = 0; i < runs; i++) {
      timings.jfk.push(await timeOne(base, jfk, {}));
      timings.fiveMinutes.push(await timeOne(base, fiveMinutes, {}));
      timings.onnx.push(await timeOne(base, jfk, onnxFields));
    }
    return { timings, output: processes[0].output() };
  } catch (error) {
    throw new CheckFailed(`the ${device} run failed: ${(error as Error).message}\nworker output (tail):\n${processes[0].output().slice(-3000)}`);
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const started = Date.now();
  if (!args.includes('--skip-build')) {
    if (!run('nvcc', ['--version'])) throw new CheckFailed('no CUDA compiler (nvcc) on PATH: install the CUDA toolkit');
    const cublas = cublasOnThisHost();
    if (!cublas && !args.includes('--build-anyway')) throw new CheckFailed(NO_CUBLAS_MESSAGE);
    if (cublas) log(`cuBLAS: ${cublas}`);
    await buildCudaAddon();
  }
  if (!existsSync(CUDA_ADDON)) throw new CheckFailed(`${CUDA_ADDON} missing: run without --skip-build`);
  const gpus = sampleGpuMemory();
  if (gpus.length === 0) throw new CheckFailed('no NVIDIA GPU visible: nvidia-smi is missing or lists no GPU (the addon is built; run again with --skip-build on a GPU host)');
  log(`GPUs: ${gpus.map((g) => `${g.index} ${g.name} (${g.usedMiB}/${g.totalMiB} MiB used)`).join(', ')}`);

  const runs = Number(process.env.GPU_CHECK_RUNS ?? 3);
  const jfk = readFileSync(JFK_WAV);
  const fiveMinutes = encodeWav(repeatSpeech(readPcm16Wav(jfk), 300));
  const cpu = await timeDevice('cpu', runs, jfk, fiveMinutes);
  log('CPU runs done; CUDA next');
  const samples: GpuMemory[][] = [];
  const sampler = setInterval(() => execFile('nvidia-smi', GPU_QUERY_ARGS, (error, stdout) => !error && samples.push(parseGpuMemory(stdout))), 250);
  let cuda;
  try {
    cuda = await timeDevice('cuda', runs, jfk, fiveMinutes);
  } finally {
    clearInterval(sampler);
  }
  // the worker logs which execution provider each ONNX session got; CPU there means a CPU-only onnxruntime
  const onnxProviders = [...new Set([...cuda.output.matchAll(/onnxruntime execution provider (\w+)/g)].map((m) => m[1]))];
  const rows: DeviceComparison[] = [
    { label: `jfk 11 s (median of ${runs})`, cpuMs: median(cpu.timings.jfk), cudaMs: median(cuda.timings.jfk) },
    { label: `5 min of speech (median of ${runs})`, cpuMs: median(cpu.timings.fiveMinutes), cudaMs: median(cuda.timings.fiveMinutes) },
    { label: `jfk + align_words + diarize (ONNX on ${onnxProviders.join('/') || 'unknown'})`, cpuMs: median(cpu.timings.onnx), cudaMs: median(cuda.timings.onnx) },
  ];
  console.log('');
  for (const line of comparisonTable(rows, peakGpuMemory(samples))) console.log(line);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (!onnxProviders.includes('cuda')) throw new CheckFailed(`ONNX ran on ${onnxProviders.join('/') || 'no provider'} under DEVICE=cuda: install onnxruntime-node with its CUDA execution provider`);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    // an expected failure is one clear line (no stack); anything else is a bug worth its stack
    console.error(error instanceof CheckFailed ? `gpu-check: ${error.message}` : error);
    process.exit(1);
  },
);
