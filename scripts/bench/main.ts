/**
 * `npm run bench`: the service end to end (HTTP → Redis → worker → whisper.cpp → HTTP) against the
 * raw whisper-cli built from the same whisper.cpp source, on the same audio and model. Prints ratios
 * measured in one run (machines are noisy; ratios from one run are comparable, absolute times less so).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { JFK_WAV } from '../../test/support/samples';
import { freePort, getJson, postTranscribe, prepareRedis, REPO_ROOT, startApi, startWorker, waitForHealthy, MODEL_DIR, TEST_REDIS_URL } from '../../test/support/service-harness';
import { encodeWav, readPcm16Wav, repeatSpeech } from '../../test/support/wav';
import { alignmentRows, benchAlignment } from './alignment';
import { benchDiarization, diarizationRows } from './diarization';
import { benchDecodeMemory, rssOfProcess } from './long-audio';
import { benchVadSpeed } from './vad-speed';
import { benchOverhead, overheadRows } from './overhead';

const MODEL = 'synthetic-tiny';
const THREADS = String(Math.max(1, os.availableParallelism()));
const WHISPER_CLI = join(REPO_ROOT, 'build', 'native', 'bin', 'whisper-cli');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

interface CliTiming {
  /** wall time of the whole process */
  wallMs: number;
  /** the model load time whisper-cli reports itself */
  loadMs: number;
}

/**
 * whisper-cli with the service's decoding settings: same threads, language, beam size, and
 * timestamps decoded (no `-nt`: that flag sets whisper's no_timestamps, which skips the timestamp
 * tokens, so the CLI would do less work than the service).
 * Asynchronous on purpose: a blocked event loop can't expire fetch's idle keep-alive sockets, and
 * the next upload then goes out on one the API has already closed (EPIPE).
 */
function timeWhisperCli(file: string): Promise<CliTiming> {
  const started = performance.now();
  const args = ['-m', join(MODEL_DIR, `ggml-${MODEL}.bin`), '-f', file, '-t', THREADS, '-l', 'en', '-bs', '5'];
  return new Promise((resolve, reject) => {
    execFile(WHISPER_CLI, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      const wallMs = performance.now() - started;
      if (error) return reject(new Error(`whisper-cli failed: ${error.message} ${stderr}`));
      const load = /load time =\s*([\d.]+) ms/.exec(stderr);
      resolve({ wallMs, loadMs: load ? Number(load[1]) : 0 });
    });
  });
}

async function timeService(base: string, audio: Buffer, fields: Record<string, string> = { vad: 'false' }): Promise<{ ms: number; body: any }> {
  const started = performance.now();
  const { status, body } = await postTranscribe(base, audio, { whisper_model: MODEL, allowed_languages: 'en', ...fields });
  const ms = performance.now() - started;
  if (status !== 200) throw new Error(`service answered ${status}: ${JSON.stringify(body)}`);
  return { ms, body };
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const longRuns = Number(process.env.BENCH_LONG_RUNS ?? 4);
  const work = mkdtempSync(join(os.tmpdir(), 'bench-'));
  const jfk = readFileSync(JFK_WAV);
  const fiveMinutes = encodeWav(repeatSpeech(readPcm16Wav(jfk), 300));
  const fiveMinutesFile = join(work, 'five-minutes.wav');
  writeFileSync(fiveMinutesFile, fiveMinutes);

  console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; model ${MODEL}; ${THREADS} threads`);
  if (!existsSync(WHISPER_CLI)) throw new Error(`${WHISPER_CLI} missing: run npm run build:native`);

  // in-process figures first, while no service competes for the cores
  // BENCH_SERVICE_ONLY=1 skips these (for re-measuring the service ratios quickly)
  // BENCH_OVERHEAD_ONLY=1: only the per-job overhead next to bare BullMQ (a minute, no whisper)
  const overheadOnly = process.env.BENCH_OVERHEAD_ONLY === '1';
  const offline = process.env.BENCH_SERVICE_ONLY !== '1' && !overheadOnly;
  const alignment = offline ? await benchAlignment() : undefined;
  const diarization = offline ? await benchDiarization(Number(process.env.BENCH_DIARIZE_SECONDS ?? 3600)) : undefined;
  const decodeMemory = offline ? await benchDecodeMemory(Number(process.env.BENCH_DECODE_SECONDS ?? 3 * 3600)) : undefined;
  const vadSpeed = offline ? await benchVadSpeed() : undefined;

  await prepareRedis();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // the worker boots on another model, so the first synthetic-tiny request is a cold load
  const worker = startWorker({ WHISPER_MODEL: 'synthetic-micro', WHISPER_THREADS: THREADS, MAX_AUDIO_SECONDS: '3600' });
  const api = startApi(port, { MAX_UPLOAD_MB: '100', SYNC_TIMEOUT_S: '3600' });
  try {
    await waitForHealthy(base, 1);
    const overheadRuns = Number(process.env.BENCH_OVERHEAD_RUNS ?? 30);
    const burstUploads = Number(process.env.BENCH_BURST_UPLOADS ?? 200);
    // 11 s of audio: a 344 KB WAV per upload (BENCH_BURST_SECONDS=0.5: 16 KB)
    const burstSeconds = Number(process.env.BENCH_BURST_SECONDS ?? 11);
    if (overheadOnly) {
      const overhead = await benchOverhead(base, TEST_REDIS_URL, overheadRuns, { uploads: burstUploads, seconds: burstSeconds }, { api: api.child.pid, worker: worker.child.pid });
      console.log('');
      console.log('| measure | value |');
      console.log('| --- | --- |');
      for (const row of overheadRows(overhead)) console.log(row);
      return;
    }

    // cold: model not in the worker's cache (after /gc), then warm repeats
    const cold: number[] = [];
    const warm: number[] = [];
    const cli: number[] = [];
    const cliNoLoad: number[] = [];
    const overhead: number[] = [];
    for (let i = 0; i < Math.max(1, Math.floor(runs / 2)); i++) {
      await getJson(`${base}/gc`, { method: 'POST' });
      cold.push((await timeService(base, jfk)).ms);
    }
    await timeService(base, jfk);
    for (let i = 0; i < runs; i++) {
      // interleaved, so drift on a noisy machine hits both sides alike
      const timing = await timeWhisperCli(JFK_WAV);
      cli.push(timing.wallMs);
      cliNoLoad.push(timing.wallMs - timing.loadMs);
      const { ms, body } = await timeService(base, jfk);
      warm.push(ms);
      const inWorker = Object.entries(body.timings_ms as Record<string, number>).filter(([k]) => k !== 'queued').reduce((sum, [, v]) => sum + v, 0);
      overhead.push(ms - inWorker);
    }
    const longCli: number[] = [];
    const longCliNoLoad: number[] = [];
    const longWarm: number[] = [];
    for (let i = 0; i < longRuns; i++) {
      const timing = await timeWhisperCli(fiveMinutesFile);
      longCli.push(timing.wallMs);
      longCliNoLoad.push(timing.wallMs - timing.loadMs);
      longWarm.push((await timeService(base, fiveMinutes)).ms);
    }

    // 30 minutes of speech-like audio (jfk with pauses) with and without VAD, at several batch sizes
    const vadSeconds = Number(process.env.BENCH_VAD_SECONDS ?? 1800);
    const longSpeech = encodeWav(repeatSpeech(readPcm16Wav(jfk), vadSeconds, 4));
    const vadRuns: { label: string; ms: number; peakMb: number; segments: number }[] = [];
    for (const [label, fields] of vadSeconds === 0 ? [] : [
      ['no VAD (whole file)', { vad: 'false' }],
      ['VAD, batch_size 1', { vad: 'true', batch_size: '1' }],
      ['VAD, batch_size 2', { vad: 'true', batch_size: '2' }],
      ['VAD, batch_size 4', { vad: 'true', batch_size: '4' }],
    ] as const) {
      const pid = worker.child.pid as number;
      let peakMb = rssOfProcess(pid);
      const sampler = setInterval(() => (peakMb = Math.max(peakMb, rssOfProcess(pid))), 100);
      const { ms, body } = await timeService(base, longSpeech, fields);
      clearInterval(sampler);
      vadRuns.push({ label, ms, peakMb, segments: body.segments.length });
    }

    // last: its burst leaves async jobs queued behind which nothing else should wait
    const perJob = await benchOverhead(base, TEST_REDIS_URL, overheadRuns, { uploads: burstUploads, seconds: burstSeconds }, { api: api.child.pid, worker: worker.child.pid });

    const jfkRatio = median(warm) / median(cli);
    const longRatio = median(longWarm) / median(longCli);
    console.log('');
    console.log('| measure | value |');
    console.log('| --- | --- |');
    console.log(`| jfk 11 s: whisper-cli (median of ${runs}) | ${fmt(median(cli))} |`);
    console.log(`| jfk 11 s: service, warm cache (median of ${runs}) | ${fmt(median(warm))} |`);
    console.log(`| **jfk: service warm ÷ whisper-cli** | **${jfkRatio.toFixed(3)}** (goal ≤ 1.05) |`);
    console.log(`| 5 min: whisper-cli (median of ${longRuns}) | ${fmt(median(longCli))} |`);
    console.log(`| 5 min: service, warm cache (median of ${longRuns}) | ${fmt(median(longWarm))} |`);
    console.log(`| **5 min: service warm ÷ whisper-cli** | **${longRatio.toFixed(3)}** (goal ≤ 1.03) |`);
    console.log(`| stricter: service warm ÷ (whisper-cli − its own model load time), jfk / 5 min | ${(median(warm) / median(cliNoLoad)).toFixed(3)} / ${(median(longWarm) / median(longCliNoLoad)).toFixed(3)} |`);
    console.log(`| jfk: service cold (model load) | ${fmt(median(cold))} |`);
    console.log(`| **cold ÷ warm** | **${(median(cold) / median(warm)).toFixed(3)}** |`);
    console.log(`| queue + HTTP overhead per job (end-to-end − worker stages) | ${median(overhead).toFixed(0)} ms |`);
    for (const row of overheadRows(perJob)) console.log(row);
    console.log(`| 5 min: × realtime (service) | ${(300_000 / median(longWarm)).toFixed(1)}× |`);
    const noVad = vadRuns[0]?.ms ?? 0;
    const batchOne = vadRuns[1]?.ms ?? 0;
    for (const run of vadRuns) {
      console.log(`| ${vadSeconds / 60} min speech-like, ${run.label} | ${fmt(run.ms)} = ${(vadSeconds * 1000 / run.ms).toFixed(1)}× realtime, ${(noVad / run.ms).toFixed(2)}× vs no VAD, ${(batchOne / run.ms).toFixed(2)}× vs batch 1; worker peak RSS ${run.peakMb.toFixed(0)} MB; ${run.segments} segments |`);
    }
    if (vadSpeed) console.log(`| VAD (Silero, 1 thread, ${vadSpeed.seconds} s of jfk repeated) | ${Math.round(vadSpeed.framesPerSecond)} frames/s = ${vadSpeed.realtime.toFixed(0)}× realtime: 1 h in ${(3600 / vadSpeed.realtime).toFixed(1)} s |`);
    if (decodeMemory) console.log(`| decoding ${(decodeMemory.seconds / 3600).toFixed(0)} h of MP3 (${decodeMemory.mp3Mb.toFixed(0)} MB) through ffmpeg pipes | ${(decodeMemory.decodeMs / 1000).toFixed(1)} s; RSS ${decodeMemory.rssBeforeMb.toFixed(0)} → peak ${decodeMemory.peakRssMb.toFixed(0)} MB for ${decodeMemory.pcmMb.toFixed(0)} MB of PCM (+ the MP3 bytes) |`);
    if (alignment) for (const row of alignmentRows(alignment)) console.log(row);
    if (diarization) for (const row of diarizationRows(diarization)) console.log(row);
  } finally {
    await Promise.all([api.stop(), worker.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
