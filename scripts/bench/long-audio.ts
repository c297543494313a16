/**
 * Long-audio figures for `npm run bench`: decoding memory on a 3-hour file, and a 30-minute
 * speech-like file through the service with and without VAD at several batch sizes.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { decodeAudio } from '@app/audio';

const MB = 2 ** 20;

/** A long MP3 made by ffmpeg into memory (no file): a tone with 1 s pauses, mono 16 kHz 32 kbit/s. */
function longMp3(seconds: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=220:sample_rate=16000:duration=${seconds}`, '-ac', '1', '-b:a', '32k', '-f', 'mp3', 'pipe:1']);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg exited ${code}`))));
  });
}

export interface DecodeMemoryFigures {
  seconds: number;
  mp3Mb: number;
  pcmMb: number;
  rssBeforeMb: number;
  peakRssMb: number;
  decodeMs: number;
}

/** Peak RSS while decoding `seconds` of MP3 through ffmpeg pipes, against the size of the PCM itself. */
export async function benchDecodeMemory(seconds: number): Promise<DecodeMemoryFigures> {
  const mp3 = await longMp3(seconds);
  (globalThis as { gc?: () => void }).gc?.();
  const rssBeforeMb = process.memoryUsage.rss() / MB;
  let peakRssMb = rssBeforeMb;
  const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, process.memoryUsage.rss() / MB)), 20);
  const started = performance.now();
  const decoded = await decodeAudio(mp3, { maxSeconds: seconds + 60, timeoutMs: 600_000 });
  const decodeMs = performance.now() - started;
  clearInterval(sampler);
  peakRssMb = Math.max(peakRssMb, process.memoryUsage.rss() / MB);
  return { seconds, mp3Mb: mp3.length / MB, pcmMb: decoded.pcm.byteLength / MB, rssBeforeMb, peakRssMb, decodeMs };
}

/** Peak resident memory of a process so far (Linux VmHWM), MB. */
export function peakRssOfProcess(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** Current resident memory of a process (Linux VmRSS), MB. */
export function rssOfProcess(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}
