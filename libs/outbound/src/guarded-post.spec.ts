import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardedPost, OutboundRequestError } from './guarded-post';
import { OutboundPolicy, OutboundRefusedError } from './outbound-policy';

describe('guardedPost', () => {
  let server: http.Server;
  let port: number;
  const seen: { url?: string; host?: string; body: string }[] = [];
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push({ url: req.url, host: req.headers.host, body });
        handler(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (seen.length = 0));

  const allowing = new OutboundPolicy(['127.0.0.1', 'receiver.test']);
  const limits = { connectTimeoutMs: 2_000, totalTimeoutMs: 2_000, maxResponseBytes: 16 };

  it('posts the body with the headers and returns status and body', async () => {
    handler = (_req, res) => res.writeHead(200).end('ok');
    const response = await guardedPost(allowing, `http://127.0.0.1:${port}/hook?a=1`, '{"x":1}', { 'x-test': 'y' }, limits);
    expect(response).toMatchObject({ status: 200, body: 'ok', truncated: false, address: '127.0.0.1' });
    expect(seen).toEqual([{ url: '/hook?a=1', host: `127.0.0.1:${port}`, body: '{"x":1}' }]);
  });

  it('connects to the checked address, not to a second lookup of the name', async () => {
    handler = (_req, res) => res.writeHead(204).end();
    let lookups = 0;
    // the policy's resolver answers with the receiver; Node's own DNS would not know the name at all
    const policy = new OutboundPolicy(['receiver.test'], async () => {
      lookups += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    });
    const response = await guardedPost(policy, `http://receiver.test:${port}/`, '{}', {}, limits);
    expect(response.status).toBe(204);
    expect(lookups).toBe(1);
    expect(seen[0].host).toBe(`receiver.test:${port}`);
  });

  it('does not follow redirects', async () => {
    handler = (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    const response = await guardedPost(allowing, `http://127.0.0.1:${port}/`, '{}', {}, limits);
    expect(response.status).toBe(302);
    expect(seen).toHaveLength(1);
  });

  it('reads at most maxResponseBytes of the answer', async () => {
    handler = (_req, res) => res.writeHead(200).end('x'.repeat(100_000));
    const response = await guardedPost(allowing, `http://127.0.0.1:${port}/`, '{}', {}, limits);
    expect(response).toMatchObject({ status: 200, truncated: true });
    expect(response.body).toHaveLength(16);
  });

  it('gives up on a receiver that does not answer in time', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    await expect(guardedPost(allowing, `http://127.0.0.1:${port}/`, '{}', {}, { ...limits, totalTimeoutMs: 300 })).rejects.toThrow(OutboundRequestError);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('reports a refused connection as a network error', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(guardedPost(allowing, `http://127.0.0.1:${closedPort}/`, '{}', {}, limits)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses a loopback URL that is not allow-listed before any connection', async () => {
    handler = (_req, res) => res.writeHead(200).end();
    await expect(guardedPost(new OutboundPolicy([]), `http://127.0.0.1:${port}/`, '{}', {}, limits)).rejects.toThrow(OutboundRefusedError);
    expect(seen).toHaveLength(0);
  });
});
