import { Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { getOptionsToken, getStorageToken, ThrottlerModuleOptions } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { API_REDIS } from '../api.tokens';
import { RateLimitGuard } from './rate-limit.guard';
import { RedisThrottlerStorage } from './redis-throttler.storage';

const MINUTE_MS = 60_000;

/** The limiter's options, its Redis storage and the global guard (ApiModule lists these). */
export const RATE_LIMIT_PROVIDERS: Provider[] = [
  {
    provide: getOptionsToken(),
    inject: [SERVICE_CONFIG],
    // RATE_LIMIT_PER_MIN=0 (the default): the guard lets everything through without a Redis call
    useFactory: (config: ServiceConfig): ThrottlerModuleOptions => ({ throttlers: [{ name: 'default', ttl: MINUTE_MS, limit: config.rateLimitPerMin }] }),
  },
  { provide: getStorageToken(), inject: [API_REDIS], useFactory: (redis: Redis) => new RedisThrottlerStorage(redis) },
  { provide: APP_GUARD, useClass: RateLimitGuard },
];
