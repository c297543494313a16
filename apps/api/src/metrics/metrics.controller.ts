import { timingSafeEqual } from 'node:crypto';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { ErrorCode, ServiceError } from '@app/contracts';
import { Access } from '../auth/access.decorator';
import { presentedToken, sha256 } from '../auth/credentials';
import { MetricsExposition } from './metrics-exposition.service';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus-text';

/**
 * Prometheus scrapes this. Public like /health unless METRICS_TOKEN is set; then only that token
 * opens it: API keys and the admin token do not, so a scraper's credential reads metrics and
 * nothing else, and no user credential needs to sit in a Prometheus config.
 */
@Controller('metrics')
@Access('public')
export class MetricsController {
  private readonly tokenDigest?: Buffer;

  constructor(
    @Inject(SERVICE_CONFIG) config: ServiceConfig,
    private readonly exposition: MetricsExposition,
  ) {
    this.tokenDigest = config.metricsToken ? sha256(config.metricsToken) : undefined;
  }

  @Get()
  async metrics(@Req() request: Request, @Res() response: Response): Promise<void> {
    this.checkToken(request);
    const body = await this.exposition.render();
    response.status(200).setHeader('Content-Type', PROMETHEUS_CONTENT_TYPE).setHeader('Cache-Control', 'no-store').send(body);
  }

  private checkToken(request: Request): void {
    if (!this.tokenDigest) return;
    const token = presentedToken(request);
    if (!token) throw new ServiceError(ErrorCode.Unauthorized, 'this endpoint needs the metrics token (Authorization: Bearer <METRICS_TOKEN>)');
    // fixed-length digests: the comparison takes the same time whatever the token's length
    if (!timingSafeEqual(sha256(token), this.tokenDigest)) throw new ServiceError(ErrorCode.Forbidden, 'this token does not open /metrics: it needs METRICS_TOKEN');
  }
}
