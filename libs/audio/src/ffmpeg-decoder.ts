import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { ErrorCode, JobCancelledError, ServiceError } from '@app/contracts';
import { PcmSink } from './pcm-sink';
import { SAMPLE_RATE } from './wav';

export interface FfmpegDecodeOptions {
  /** uploads longer than this fail with audio_too_long */
  maxSeconds: number;
  /** wall-clock limit for the ffmpeg process */
  timeoutMs: number;
  signal?: AbortSignal;
  ffmpegPath?: string;
}

/**
 * Hardened ffmpeg invocation: input and output are pipes only (no files, no network protocols,
 * so playlists or concat lists inside an upload can't reach anything), first audio stream only,
 * resampled to 16 kHz mono float32.
 */
export function ffmpegArgs(maxSeconds: number): string[] {
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-protocol_whitelist', 'pipe',
    '-i', 'pipe:0',
    '-map', '0:a:0', '-vn', '-sn', '-dn',
    // one second past the cap, so "too long" is detectable without decoding hours of audio
    '-t', String(maxSeconds + 1),
    '-ac', '1', '-ar', String(SAMPLE_RATE), '-f', 'f32le', 'pipe:1',
  ];
}

/**
 * ffmpeg's last diagnostic lines, fit for an error body: the demuxer's heap address
 * (`[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55ab889b59c0]` → `[mov,mp4,m4a,3gp,3g2,mj2]`), any other
 * pointer-sized hex number and absolute paths (a playlist naming `/etc/passwd`) are removed, so the
 * message tells what went wrong without describing the worker's memory or file system.
 */
export function cleanDiagnostic(stderr: string): string {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^Last message repeated/.test(line))
    .slice(-2)
    .join(' ')
    .replace(/ @ 0x[0-9a-f]+/gi, '')
    .replace(/\b0x[0-9a-f]{8,}\b/gi, '<address>')
    .replace(/(^|[\s'"(=:,[])\/+[^\s'"(),\]]*/g, '$1<path>')
    .slice(0, 300);
}

/**
 * Decodes any ffmpeg-readable bytes to 16 kHz mono float32, entirely through pipes. The input may
 * come in pieces (a reordered MP4), written to ffmpeg one after another without joining them, or
 * as a stream read while ffmpeg decodes (with backpressure: never more than a pipe's worth ahead).
 * A stream that fails (its audio gone from the store) fails the decode with its own error.
 */
export function decodeWithFfmpeg(input: Buffer | readonly Buffer[] | AsyncIterable<Buffer>, options: FfmpegDecodeOptions): Promise<Float32Array> {
  return new Promise((resolve, reject) => {
    const maxSamples = Math.ceil(options.maxSeconds * SAMPLE_RATE);
    const child = spawn(options.ffmpegPath ?? 'ffmpeg', ffmpegArgs(options.maxSeconds), { stdio: ['pipe', 'pipe', 'pipe'] });
    // streamed straight into its final place: the decoded audio is held once, whatever its length
    const sink = new PcmSink(maxSamples);
    let outBytes = 0;
    let stderr = '';
    let settled = false;

    const finish = (error: Error | null, pcm?: Float32Array) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null) child.kill('SIGKILL');
      if (error) reject(error);
      else resolve(pcm as Float32Array);
    };
    const onAbort = () => finish(new JobCancelledError('decoding cancelled'));
    // the server's limit ran out, which says nothing about the audio: 503, not 422
    const timer = setTimeout(
      () => finish(new ServiceError(ErrorCode.DecodeTimeout, `decoding took longer than the server's limit DECODE_TIMEOUT_S=${options.timeoutMs / 1000} s`)),
      options.timeoutMs,
    );
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error: NodeJS.ErrnoException) => {
      const message = error.code === 'ENOENT' ? 'ffmpeg is not installed on this worker' : `ffmpeg failed to start: ${error.message}`;
      finish(new ServiceError(ErrorCode.Internal, message));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (!sink.write(chunk)) {
        finish(new ServiceError(ErrorCode.AudioTooLong, `audio is longer than MAX_AUDIO_SECONDS=${options.maxSeconds}`, 'file'));
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    child.on('close', (code) => {
      if (settled) return;
      const reason = cleanDiagnostic(stderr);
      if (code !== 0 && outBytes === 0) {
        return finish(new ServiceError(ErrorCode.UnsupportedMedia, `not a decodable audio or video file (${reason || `ffmpeg exit ${code}`})`, 'file'));
      }
      if (code !== 0 || reason) {
        return finish(new ServiceError(ErrorCode.InvalidAudio, `the audio stream is corrupt or truncated (${reason || `ffmpeg exit ${code}`})`, 'file'));
      }
      if (outBytes < 4) return finish(new ServiceError(ErrorCode.InvalidAudio, 'the file contains no audio samples', 'file'));
      finish(null, sink.result());
    });
    // ffmpeg may stop reading early (bad header, duration cap): a broken pipe is expected then
    child.stdin.on('error', () => undefined);
    if (Buffer.isBuffer(input) || Array.isArray(input)) {
      for (const piece of Buffer.isBuffer(input) ? [input] : (input as readonly Buffer[])) child.stdin.write(piece);
      child.stdin.end();
      return;
    }
    feed(input as AsyncIterable<Buffer>, child.stdin, () => settled).then(
      () => child.stdin.end(),
      (error: Error) => finish(error),
    );
  });
}

/** Writes the stream into ffmpeg's stdin at the pace ffmpeg reads it; stops when the decode is over. */
async function feed(source: AsyncIterable<Buffer>, stdin: Writable, over: () => boolean): Promise<void> {
  for await (const piece of source) {
    if (over() || stdin.destroyed) return;
    if (!stdin.write(piece)) await drained(stdin);
  }
}

/** The pipe took what was written, or closed (ffmpeg stopped reading: its exit settles the decode). */
function drained(stdin: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stdin.off('drain', done);
      stdin.off('close', done);
      stdin.off('error', done);
      resolve();
    };
    stdin.on('drain', done);
    stdin.on('close', done);
    stdin.on('error', done);
  });
}
