import { buildMultipart } from './multipart';
import { insanities, percentile, rssMbFromProcStatus, summarize, usedMemoryBytes } from './stats';

describe('load: figures', () => {
  it('nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('a phase summary counts errors as requests but not in the rate or latencies', () => {
    const r = summarize('async', 10, 2, [30, 10, 20, 40], 1, ['500 boom']);
    expect(r).toMatchObject({ requests: 5, errors: 1, requestsPerS: 2, p50Ms: 20, p99Ms: 40, maxMs: 40 });
  });

  it('sanity: errors, no throughput, or a p99 over the bound are each reported', () => {
    const bounds = { maxP99Ms: 1000, minRequestsPerS: 1 };
    expect(insanities(summarize('ok', 2, 1, [5, 6, 7], 0, []), bounds)).toEqual([]);
    expect(insanities(summarize('err', 2, 1, [5, 6], 1, ['415 x']), bounds)[0]).toContain('1 errors (415 x)');
    expect(insanities(summarize('slow', 2, 1, [5, 2000], 0, []), bounds)[0]).toContain('p99 2000 ms > 1000 ms');
    // nothing succeeded: NaN latencies must not pass as "under the bound"
    expect(insanities(summarize('none', 2, 1, [], 0, []), bounds)).toHaveLength(2);
  });

  it('Redis used_memory and /proc VmRSS', () => {
    expect(usedMemoryBytes('# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n')).toBe(1048576);
    expect(() => usedMemoryBytes('# Memory\r\n')).toThrow();
    expect(rssMbFromProcStatus('Name:\tnode\nVmRSS:\t  204800 kB\n')).toBe(200);
    expect(rssMbFromProcStatus('Name:\tnode\n')).toBeUndefined();
  });

  it('the multipart body has the fields, then the file byte for byte', () => {
    const content = Buffer.from([0, 1, 2, 255, 13, 10]);
    const { body, contentType } = buildMultipart({ async: 'true' }, { name: 'a.wav', content });
    const boundary = contentType.split('boundary=')[1];
    const text = body.toString('latin1');
    expect(text.startsWith(`--${boundary}\r\nContent-Disposition: form-data; name="async"\r\n\r\ntrue\r\n`)).toBe(true);
    expect(text.endsWith(`\r\n--${boundary}--\r\n`)).toBe(true);
    const start = body.indexOf('\r\n\r\n', body.indexOf('filename="a.wav"')) + 4;
    expect(body.subarray(start, start + content.length)).toEqual(content);
  });
});
