import { ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  getOptionsToken,
  getStorageToken,
  ThrottlerGuard,
  ThrottlerLimitDetail,
  ThrottlerModuleOptions,
  ThrottlerRequest,
  ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';
import { ErrorCode, ServiceError } from '@app/contracts';
import { Credentials, presentedToken, RequestWithPrincipal } from '../auth/credentials';

/** Never limited: probes, scrapes and the API's documentation. */
const UNLIMITED_PATHS = /^\/(health|docs)(\/.*)?$|^\/metrics$/;

/** A Redis outage is reported at most this often; requests pass meanwhile. */
const OUTAGE_WARNING_EVERY_MS = 60_000;

/**
 * RATE_LIMIT_PER_MIN requests per minute per API key (its owner digest, whichever replica answers:
 * the count is in Redis), per client IP for callers without a valid key. Every route but /health*,
 * /metrics and /docs*, all routes sharing one budget. Excess: 429 rate_limited with Retry-After.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly enabled: boolean;
  private lastOutageWarning = 0;

  constructor(
    @Inject(getOptionsToken()) options: ThrottlerModuleOptions,
    @Inject(getStorageToken()) storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(Credentials) private readonly credentials: Credentials,
  ) {
    super(options, storage, reflector);
    const throttlers = Array.isArray(options) ? options : options.throttlers;
    this.enabled = throttlers.some((throttler) => Number(throttler.limit) > 0);
    this.logger = new Logger('RateLimit');
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return !this.enabled || context.getType() !== 'http' || UNLIMITED_PATHS.test(context.switchToHttp().getRequest<Request>().path);
  }

  /** The key's owner digest when a valid API key came (the guard may run before AccessGuard), else the client IP. */
  protected override async getTracker(request: Record<string, any>): Promise<string> {
    const principal = (request as RequestWithPrincipal).principal;
    if (principal?.kind === 'key') return `key:${principal.owner}`;
    if (principal?.kind === 'admin') return 'admin';
    const token = presentedToken(request as Request);
    const identity = token ? this.credentials.identify(token) : undefined;
    if (identity?.kind === 'key') return `key:${identity.owner}`;
    if (identity?.kind === 'admin') return 'admin';
    // made-up keys count against the address they come from, so rotating them gains nothing
    return `ip:${await super.getTracker(request)}`;
  }

  /** One budget per tracker across all routes (the library's default is one per route). */
  protected override generateKey(_context: ExecutionContext, tracker: string): string {
    return tracker;
  }

  /** Redis unreachable: the request passes (the limit protects the service, it must not stop it). */
  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(request);
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      if (Date.now() - this.lastOutageWarning > OUTAGE_WARNING_EVERY_MS) {
        this.lastOutageWarning = Date.now();
        this.logger.warn(`rate limit not applied: Redis did not answer (${(error as Error).message})`);
      }
      return true;
    }
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const response = context.switchToHttp().getResponse();
    this.setResponseHeader(response, 'X-RateLimit-Limit', detail.limit);
    this.setResponseHeader(response, 'X-RateLimit-Remaining', 0);
    this.setResponseHeader(response, 'X-RateLimit-Reset', detail.timeToBlockExpire);
    throw new ServiceError(
      ErrorCode.RateLimited,
      `more than ${detail.limit} requests in a minute (RATE_LIMIT_PER_MIN); retry in ${detail.timeToBlockExpire} s (Retry-After)`,
    );
  }
}
