import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DownloadLimits, guardedGet, OutboundHttpStatusError, OutboundTimeoutError, OutboundTooLargeError, redactedUrl } from './guarded-get';
import { OutboundPolicy, OutboundRefusedError } from './outbound-policy';

async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('guardedGet', () => {
  let server: http.Server;
  let port: number;
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  const paths: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      paths.push(req.url ?? '');
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => (paths.length = 0));

  const allowing = new OutboundPolicy(['127.0.0.1']);
  const limits: DownloadLimits = { connectTimeoutMs: 2_000, totalTimeoutMs: 3_000, stallTimeoutMs: 500, maxBytes: 1000, maxRedirects: 2 };
  const base = () => `http://127.0.0.1:${port}`;

  it('streams the body of a 200', async () => {
    handler = (_req, res) => {
      res.write(Buffer.alloc(300, 1));
      setTimeout(() => res.end(Buffer.alloc(300, 2)), 50);
    };
    const download = await guardedGet(allowing, `${base()}/a.wav?sig=secret`, limits);
    const body = await readAll(download.body);
    expect(download).toMatchObject({ status: 200, address: '127.0.0.1', redirects: 0 });
    expect(body.length).toBe(600);
    expect(body[599]).toBe(2);
  });

  it('follows redirects, each hop checked, up to maxRedirects', async () => {
    handler = (req, res) => {
      if (req.url === '/r1') res.writeHead(302, { location: '/r2' }).end();
      else if (req.url === '/r2') res.writeHead(301, { location: `${base()}/final` }).end();
      else res.end('audio');
    };
    const download = await guardedGet(allowing, `${base()}/r1`, limits);
    expect((await readAll(download.body)).toString()).toBe('audio');
    expect(download.redirects).toBe(2);
    expect(paths).toEqual(['/r1', '/r2', '/final']);
    expect(download.finalUrl.pathname).toBe('/final');
  });

  it('refuses more redirects than maxRedirects', async () => {
    handler = (_req, res) => res.writeHead(302, { location: `/loop${paths.length}` }).end();
    await expect(guardedGet(allowing, `${base()}/loop`, limits)).rejects.toThrow('more than 2 redirects');
  });

  it('refuses a redirect to an address the policy refuses, without connecting to it', async () => {
    handler = (_req, res) => res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    await expect(guardedGet(allowing, `${base()}/go`, limits)).rejects.toThrow(OutboundRefusedError);
    handler = (_req, res) => res.writeHead(307, { location: `http://127.0.0.2:${port}/x` }).end();
    await expect(guardedGet(allowing, `${base()}/go`, limits)).rejects.toThrow(/loopback/);
    expect(paths).toEqual(['/go', '/go']);
  });

  it('a refused first URL never connects', async () => {
    await expect(guardedGet(new OutboundPolicy([]), `${base()}/x`, limits)).rejects.toThrow(OutboundRefusedError);
    expect(paths).toEqual([]);
  });

  it('a final non-2xx fails with its status', async () => {
    handler = (_req, res) => res.writeHead(404).end('no');
    const error = await guardedGet(allowing, `${base()}/missing?token=abc`, limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboundHttpStatusError);
    expect((error as OutboundHttpStatusError).status).toBe(404);
    expect((error as Error).message).toBe(`http://127.0.0.1:${port}/missing answered HTTP 404`);
  });

  it('an announced Content-Length over maxBytes fails before the body', async () => {
    handler = (_req, res) => res.writeHead(200, { 'content-length': '5000' }).end(Buffer.alloc(5000));
    await expect(guardedGet(allowing, `${base()}/big`, limits)).rejects.toThrow(OutboundTooLargeError);
  });

  it('a chunked body over maxBytes stops the download, the server sees the connection close', async () => {
    let closedEarly: Promise<boolean> = Promise.resolve(false);
    handler = (_req, res) => {
      closedEarly = new Promise((resolve) => {
        let sent = 0;
        const timer = setInterval(() => {
          if (sent >= 100_000) {
            clearInterval(timer);
            res.end();
            return resolve(false);
          }
          res.write(Buffer.alloc(500));
          sent += 500;
        }, 5);
        res.on('close', () => {
          clearInterval(timer);
          resolve(sent < 100_000);
        });
      });
    };
    const download = await guardedGet(allowing, `${base()}/chunked`, limits);
    await expect(readAll(download.body)).rejects.toThrow(OutboundTooLargeError);
    expect(await closedEarly).toBe(true);
  });

  it('a server that stops sending mid-body fails on the stall timeout', async () => {
    handler = (_req, res) => res.write(Buffer.alloc(10)); // never ends
    const download = await guardedGet(allowing, `${base()}/stall`, limits);
    const started = Date.now();
    await expect(readAll(download.body)).rejects.toThrow(/stalled/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('a server that never answers fails on the stall timeout before the total one', async () => {
    handler = () => undefined;
    await expect(guardedGet(allowing, `${base()}/silent`, limits)).rejects.toThrow(OutboundTimeoutError);
  });

  it('a body trickling under the stall timeout still ends at the total timeout', async () => {
    handler = (_req, res) => {
      const timer = setInterval(() => res.write(Buffer.alloc(1)), 100);
      res.on('close', () => clearInterval(timer));
    };
    const download = await guardedGet(allowing, `${base()}/trickle`, { ...limits, totalTimeoutMs: 1_000 });
    await expect(readAll(download.body)).rejects.toThrow(/no complete download within 1000 ms/);
  });

  it('redactedUrl keeps scheme, host and path only', () => {
    expect(redactedUrl('https://bucket.s3.example.com:8443/a/b.wav?X-Amz-Signature=s3cret#frag')).toBe('https://bucket.s3.example.com:8443/a/b.wav');
    expect(redactedUrl('nope')).toBe('(not a URL)');
  });
});
