import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, ServiceError } from '@app/contracts';
import { OutboundPolicy } from '@app/outbound';
import { audioUrlLimits, UrlAudioSource } from './url-audio-source';

describe('UrlAudioSource', () => {
  let server: http.Server;
  let base: string;
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  const lines: string[] = [];
  const limits = { ...audioUrlLimits({ maxUploadMb: 1, audioUrlTimeoutS: 5, audioUrlStallS: 1 }), stallTimeoutMs: 300 };
  const policy = new OutboundPolicy(['127.0.0.1']);
  const source = (url: string) => new UrlAudioSource(url, policy, limits, (line) => lines.push(line));
  const read = async (url: string) => {
    const chunks: Buffer[] = [];
    for await (const chunk of source(url).open()) chunks.push(chunk);
    return Buffer.concat(chunks);
  };

  beforeAll(async () => {
    server = http.createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => (lines.length = 0));

  const failure = (url: string) => read(url).then(() => undefined, (error: unknown) => error as ServiceError);

  it('reads the body; logs name the URL without its query', async () => {
    handler = (req, res) => (req.url?.startsWith('/r') ? res.writeHead(302, { location: '/a.wav?X-Sig=2' }).end() : res.end('RIFF-bytes'));
    expect((await read(`${base}/r.wav?X-Sig=secret`)).toString()).toBe('RIFF-bytes');
    expect(source(`${base}/r.wav?X-Sig=secret`).description).toBe(`url ${base}/r.wav`);
    expect(lines.join('\n')).toContain(`${base}/r.wav: HTTP 200 after 1 redirect(s) to ${base}/a.wav`);
    expect(lines.join('\n')).not.toMatch(/X-Sig/);
  });

  it('maps each failure to its code, field audio_url, no query in the message', async () => {
    handler = (_req, res) => res.writeHead(404).end();
    let error = await failure(`${base}/gone.wav?token=s3cret`);
    expect(error).toMatchObject({ code: ErrorCode.AudioUrlUnreachable, field: 'audio_url' });
    expect(error?.message).toContain('HTTP 404');
    expect(error?.message).not.toContain('s3cret');

    handler = (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    expect(await failure(`${base}/r`)).toMatchObject({ code: ErrorCode.AudioUrlRefused });

    handler = (_req, res) => {
      res.write(Buffer.alloc(600 * 1024));
      res.end(Buffer.alloc(600 * 1024));
    };
    expect(await failure(`${base}/big`)).toMatchObject({ code: ErrorCode.UploadTooLarge, field: 'audio_url' });

    handler = (_req, res) => res.write('RIFF');
    expect(await failure(`${base}/stall`)).toMatchObject({ code: ErrorCode.AudioUrlTimeout });

    handler = (_req, res) => res.end();
    expect(await failure(`${base}/empty`)).toMatchObject({ code: ErrorCode.EmptyFile });

    expect(await failure('http://127.0.0.1:1/closed')).toMatchObject({ code: ErrorCode.AudioUrlUnreachable });
  });

  it('streams chunk by chunk and stops the download when the reader stops', async () => {
    let closed!: Promise<void>;
    handler = (_req, res) => {
      closed = new Promise((resolve) => res.on('close', () => resolve()));
      const timer = setInterval(() => res.write(Buffer.alloc(1000)), 5);
      res.on('close', () => clearInterval(timer));
    };
    for await (const chunk of source(`${base}/live`).open()) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    await closed;
  });
});
