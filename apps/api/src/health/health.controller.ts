import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import Redis from 'ioredis';
import type { HealthBody, HealthWorker, PublicHealthBody } from '@app/contracts';
import { API_REDIS } from '../api.tokens';
import { Access, CurrentPrincipal } from '../auth/access.decorator';
import type { Principal } from '../auth/credentials';
import { withTimeout } from '../common/with-timeout';
import { WorkerRegistry } from '../workers/worker-registry.service';

/** Health checks need no key; details (workers, models, reasons) only for a key or the admin token. */
@Controller('health')
@Access('public')
export class HealthController {
  constructor(
    @Inject(API_REDIS) private readonly redis: Redis,
    private readonly registry: WorkerRegistry,
  ) {}

  /** Ready: Redis answers and at least one worker's heartbeat is fresh; else 503 with the same shape. */
  @Get()
  async health(@Res({ passthrough: true }) response: Response, @CurrentPrincipal() principal?: Principal): Promise<HealthBody | PublicHealthBody> {
    const body = await this.check(response);
    return principal ? body : { status: body.status };
  }

  private async check(response: Response): Promise<HealthBody> {
    try {
      await withTimeout(this.redis.ping(), 2_000, () => new Error('ping timed out'));
    } catch (error) {
      response.status(503);
      return { status: 'unavailable', redis: 'down', workers: [], reason: `Redis: ${(error as Error).message}` };
    }
    const now = Date.now();
    const workers = (await this.registry.liveWorkers()).map((worker): HealthWorker => ({
      worker_id: worker.worker_id,
      device: worker.device,
      models: worker.models,
      ...(worker.loaded_models ? { loaded_models: worker.loaded_models } : {}),
      ...(worker.rss_mb !== undefined ? { rss_mb: worker.rss_mb } : {}),
      busy: worker.busy,
      last_seen_ms: Math.max(0, now - worker.ts),
    }));
    if (workers.length === 0) {
      response.status(503);
      return { status: 'unavailable', redis: 'up', workers, reason: 'no worker heartbeat in the last 15 s' };
    }
    return { status: 'ok', redis: 'up', workers };
  }

  /** Liveness only: the process answers. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
