/**
 * MP4-family test files made by this machine's ffmpeg with its defaults, i.e. with `moov` written
 * after `mdat` as phones and cameras do, plus a remuxed `+faststart` twin of each. Fixtures only:
 * the muxer can't write moov-at-end to a pipe, so they pass through a temporary directory that is
 * removed before this returns (user audio never does).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JFK_WAV } from './samples';

export interface Mp4Fixture {
  /** e.g. "m4a (AAC)" */
  name: string;
  fileName: string;
  /** ffmpeg's default layout: ftyp, free/wide, mdat, moov */
  moovAtEnd: Buffer;
  /** the same packets remuxed with -movflags +faststart */
  faststart: Buffer;
}

/** jfk.wav lasts exactly 11.0 s (176,000 samples at 16 kHz). */
export const JFK_SECONDS = 11.0;

const VIDEO = (size: string) => ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=10:duration=${JFK_SECONDS}`];

/** Speech in each container; this ffmpeg has no AMR encoder, so the 3GP carries AAC and H.263. */
const RECIPES: { name: string; fileName: string; args: string[] }[] = [
  { name: 'm4a (AAC)', fileName: 'jfk.m4a', args: ['-i', JFK_WAV, '-c:a', 'aac'] },
  { name: 'mp4 (H.264 video + AAC)', fileName: 'jfk.mp4', args: [...VIDEO('64x64'), '-i', JFK_WAV, '-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac'] },
  { name: 'mov (AAC)', fileName: 'jfk.mov', args: ['-i', JFK_WAV, '-c:a', 'aac'] },
  { name: '3gp (H.263 video + AAC)', fileName: 'jfk.3gp', args: [...VIDEO('176x144'), '-i', JFK_WAV, '-map', '0:v', '-map', '1:a', '-c:v', 'h263', '-c:a', 'aac'] },
];

function ffmpeg(args: string[]): void {
  const run = spawnSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${run.stderr || run.error}`);
}

export function makeMp4Fixtures(): Mp4Fixture[] {
  const dir = mkdtempSync(join(tmpdir(), 'mp4-fixtures-'));
  try {
    return RECIPES.map(({ name, fileName, args }) => {
      const plain = join(dir, fileName);
      const fast = join(dir, `faststart-${fileName}`);
      ffmpeg([...args, plain]);
      ffmpeg(['-i', plain, '-map', '0', '-c', 'copy', '-movflags', '+faststart', fast]);
      return { name, fileName, moovAtEnd: readFileSync(plain), faststart: readFileSync(fast) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Four-character codes of the top-level boxes, in file order (a test's independent reading). */
export function topLevelBoxes(bytes: Buffer): string[] {
  const types: string[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    let size = bytes.readUInt32BE(at);
    if (size === 1) size = Number(bytes.readBigUInt64BE(at + 8));
    if (size === 0) size = bytes.length - at;
    types.push(bytes.toString('latin1', at + 4, at + 8));
    if (size < 8) break;
    at += size;
  }
  return types;
}
