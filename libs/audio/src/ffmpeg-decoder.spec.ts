import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJobError, encodeJobError, ERROR_HTTP_STATUS, ErrorCode, ServiceError } from '@app/contracts';
import { cleanDiagnostic, decodeWithFfmpeg } from './ffmpeg-decoder';

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('cleanDiagnostic', () => {
  it.each([
    ['[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55ab889b59c0] stream 0, offset 0x2c: partial file', '[mov,mp4,m4a,3gp,3g2,mj2] stream 0, offset 0x2c: partial file'],
    ['[hls @ 0x5570f6709a00] URL file:///etc/passwd is not in allowed_segment_extensions', '[hls] URL file:<path> is not in allowed_segment_extensions'],
    ["[concat @ 0x55f7636d3980] Unsafe file name '/etc/passwd'", "[concat] Unsafe file name '<path>'"],
    ['[AVIOContext @ 0x7f3a2c001234] Statistics: 0 bytes read, buffer at 0x7ffd5e4b2a10', '[AVIOContext] Statistics: 0 bytes read, buffer at <address>'],
    ['Error opening input /srv/app/models/x.bin (see /tmp/a b)', 'Error opening input <path> (see <path> b)'],
  ])('%s', (raw, clean) => {
    expect(cleanDiagnostic(raw)).toBe(clean);
  });

  it('keeps the last two meaningful lines', () => {
    const raw = '[aac @ 0x1234567890ab] first\n[aac @ 0x1234567890ab] second\n    Last message repeated 3 times\npipe:0: Invalid data found when processing input\n';
    expect(cleanDiagnostic(raw)).toBe('[aac] second pipe:0: Invalid data found when processing input');
  });
});

describe('decodeWithFfmpeg', () => {
  const options = { maxSeconds: 60, timeoutMs: 20_000 };
  let dir: string;
  /** a stand-in for ffmpeg: a shell script behaving badly on purpose */
  const fakeFfmpeg = (name: string, script: string) => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
    return path;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fake-ffmpeg-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports hostile playlists without heap addresses or absolute paths (real ffmpeg)', async () => {
    for (const playlist of ['ffconcat version 1.0\nfile /etc/passwd\n', '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n']) {
      const error = await failure(decodeWithFfmpeg(Buffer.from(playlist), options));
      expect(error.code).toBe(ErrorCode.UnsupportedMedia);
      expect(error.message).toMatch(/\[(concat|hls)\]/);
      expect(error.message).not.toMatch(/0x[0-9a-f]{8,}|\/etc\/passwd/i);
    }
  });

  it('cleans what a misbehaving ffmpeg prints, too', async () => {
    const ffmpegPath = fakeFfmpeg('noisy', `echo "[matroska,webm @ 0x5570f6709a00] Opening '/srv/secret/x.ts' for reading" >&2; exit 1`);
    const error = await failure(decodeWithFfmpeg(Buffer.from('x'), { ...options, ffmpegPath }));
    expect(error.message).toBe("not a decodable audio or video file ([matroska,webm] Opening '<path>' for reading)");
  });

  it('a DECODE_TIMEOUT_S overrun is the server’s limit (503 decode_timeout), not bad audio', async () => {
    const ffmpegPath = fakeFfmpeg('slow', 'exec sleep 30');
    const started = Date.now();
    const error = await failure(decodeWithFfmpeg(Buffer.alloc(1000), { ...options, timeoutMs: 500, ffmpegPath }));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error.code).toBe(ErrorCode.DecodeTimeout);
    expect(error.message).toContain('DECODE_TIMEOUT_S=0.5 s');
    expect(error.field).toBeUndefined();
    // the worker forwards ServiceErrors through encodeJobError; the API maps the code to its status
    const forwarded = decodeJobError(encodeJobError(error.code, error.message, error.field));
    expect(forwarded.code).toBe(ErrorCode.DecodeTimeout);
    expect(ERROR_HTTP_STATUS[forwarded.code]).toBe(503);
  });
});
