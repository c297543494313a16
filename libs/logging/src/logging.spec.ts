import { Writable } from 'node:stream';
import { Logger as NestLogger } from '@nestjs/common';
import { addToLogContext, createRootLogger, currentRequestId, installNestLogger, requestIdFrom, runWithLogContext, saneRequestId, usesPrettyOutput } from '.';

/** A destination that keeps the lines pino writes. */
function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line)) };
}

describe('request ids', () => {
  it('keeps a sane X-Request-Id and replaces anything else with a UUID', () => {
    expect(requestIdFrom('test-req-123')).toBe('test-req-123');
    expect(requestIdFrom(['a.b:c_d-1', 'other'])).toBe('a.b:c_d-1');
    expect(requestIdFrom('x'.repeat(128))).toBe('x'.repeat(128));
    for (const odd of [undefined, '', 'x'.repeat(129), 'has space', 'quote"', 'new\nline', 'ünï']) {
      expect(requestIdFrom(odd)).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(saneRequestId(42)).toBeUndefined();
    expect(saneRequestId('job:1')).toBe('job:1');
  });
});

describe('root logger', () => {
  it('writes level names, ISO times and the context\'s request_id/job_id across awaits', async () => {
    const out = capture();
    const logger = createRootLogger('worker', { logLevel: 'info', logFormat: 'json' }, out.stream);
    logger.info('outside');
    await runWithLogContext({ request_id: 'r-1' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(currentRequestId()).toBe('r-1');
      addToLogContext({ job_id: 'j-1' });
      logger.warn({ extra: 1 }, 'inside');
    });
    logger.debug('hidden at info');
    const [outside, inside, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(outside).toMatchObject({ level: 'info', msg: 'outside', service: 'worker' });
    expect(outside).not.toHaveProperty('request_id');
    expect(Number.isNaN(Date.parse(String(outside.time)))).toBe(false);
    expect(inside).toMatchObject({ level: 'warn', msg: 'inside', request_id: 'r-1', job_id: 'j-1', extra: 1 });
  });

  it('redacts credentials even when a caller logs headers', () => {
    const out = capture();
    const logger = createRootLogger('api', { logLevel: 'info', logFormat: 'json' }, out.stream);
    logger.info({ headers: { authorization: 'Bearer sk-secret', 'x-api-key': 'sk-other', accept: '*/*' } }, 'headers');
    const text = JSON.stringify(out.lines());
    expect(text).not.toMatch(/sk-secret|sk-other/);
    expect(out.lines()[0]).toMatchObject({ headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', accept: '*/*' } });
  });

  it('is pretty on a terminal or when asked, JSON otherwise or when asked', () => {
    expect(usesPrettyOutput('auto', true)).toBe(true);
    expect(usesPrettyOutput('auto', false)).toBe(false);
    expect(usesPrettyOutput('pretty', false)).toBe(true);
    expect(usesPrettyOutput('json', true)).toBe(false);
  });

  it('takes over Nest\'s Logger: context, message and error stacks on one line', () => {
    const out = capture();
    installNestLogger(createRootLogger('api', { logLevel: 'trace', logFormat: 'json' }, out.stream));
    const logger = new NestLogger('Jobs');
    logger.log('job 1 queued');
    logger.verbose('details');
    logger.error('job 1 failed', new Error('boom').stack);
    const [log, verbose, error] = out.lines();
    expect(log).toMatchObject({ level: 'info', context: 'Jobs', msg: 'job 1 queued' });
    expect(verbose).toMatchObject({ level: 'trace', context: 'Jobs', msg: 'details' });
    expect(error).toMatchObject({ level: 'error', context: 'Jobs' });
    expect(JSON.stringify(error)).toContain('boom');
  });
});
