import http from 'node:http';

export interface LoadSpec {
  url: string;
  body: Buffer;
  headers: Record<string, string>;
  connections: number;
  durationMs: number;
  expectStatus: number;
  /** per-request timeout */
  timeoutMs: number;
  /** one request per connection, all at once, whatever durationMs says (a burst) */
  once?: boolean;
}

export interface LoadOutcome {
  latenciesMs: number[];
  errors: number;
  errorSamples: string[];
  elapsedS: number;
}

/**
 * A closed loop per connection (autocannon's model): each of `connections` keep-alive sockets sends
 * the next request as soon as the last answer is read, until the time is up. Latency is from the
 * request's start to the end of its answer.
 */
export async function runLoad(spec: LoadSpec): Promise<LoadOutcome> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const latenciesMs: number[] = [];
  const errorSamples = new Set<string>();
  let errors = 0;
  const started = performance.now();
  const deadline = started + spec.durationMs;
  const fail = (what: string) => {
    errors++;
    if (errorSamples.size < 5) errorSamples.add(what);
  };
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const request = http.request(spec.url, { method: 'POST', agent, headers: { ...spec.headers, 'content-length': String(spec.body.length) }, timeout: spec.timeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => {
          if (response.statusCode === spec.expectStatus) latenciesMs.push(performance.now() - t0);
          else fail(`${response.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}`);
          resolve();
        });
        response.on('error', (e) => (fail(e.message), resolve()));
      });
      request.on('timeout', () => request.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)));
      request.on('error', (e) => (fail(e.message), resolve()));
      request.end(spec.body);
    });
  const loop = async () => {
    if (spec.once) return one();
    while (performance.now() < deadline) await one();
  };
  await Promise.all(Array.from({ length: spec.connections }, loop));
  agent.destroy();
  return { latenciesMs, errors, errorSamples: [...errorSamples], elapsedS: (performance.now() - started) / 1000 };
}
