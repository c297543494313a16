import type { Request, Response } from 'express';
import { loadConfig } from '@app/config';
import { ServiceError } from '@app/contracts';
import { MetricsController } from './metrics.controller';
import { MetricsExposition } from './metrics-exposition.service';

function call(env: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status?: number; body?: string; code?: string }> {
  const exposition = { render: async () => '# HELP tx_x x\n' } as unknown as MetricsExposition;
  const controller = new MetricsController(loadConfig(env), exposition);
  const answer: { status?: number; body?: string } = {};
  const response = {
    status(status: number) {
      answer.status = status;
      return this;
    },
    setHeader() {
      return this;
    },
    send(body: string) {
      answer.body = body;
      return this;
    },
  } as unknown as Response;
  return controller.metrics({ headers } as Request, response).then(
    () => answer,
    (error: ServiceError) => ({ code: error.code }),
  );
}

describe('MetricsController: METRICS_TOKEN', () => {
  it('is public without METRICS_TOKEN, like /health', async () => {
    expect(await call({})).toEqual({ status: 200, body: '# HELP tx_x x\n' });
  });

  it('with METRICS_TOKEN: that token only; API keys and the admin token do not open it', async () => {
    const env = { METRICS_TOKEN: 'scrape-me', API_KEYS: 'key-a', ADMIN_TOKEN: 'admin' };
    expect(await call(env)).toEqual({ code: 'unauthorized' });
    expect(await call(env, { authorization: 'Bearer key-a' })).toEqual({ code: 'forbidden' });
    expect(await call(env, { authorization: 'Bearer admin' })).toEqual({ code: 'forbidden' });
    expect(await call(env, { authorization: 'Bearer scrape-me-too' })).toEqual({ code: 'forbidden' });
    expect(await call(env, { authorization: 'Bearer scrape-me' })).toMatchObject({ status: 200 });
  });
});
