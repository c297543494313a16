/**
 * `npm test`'s first step after the build: the tests need a Redis on this machine. When nothing
 * answers at TEST_REDIS_URL (default 127.0.0.1:6379) a local in-memory redis-server is started.
 */
import { ensureLocalRedis } from '@app/redis';

const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

ensureLocalRedis(url, (message) => console.log(`[test] ${message}`))
  .then((outcome) => console.log(`[test] Redis at ${url}: ${outcome}`))
  .catch((error: Error) => {
    console.error(`[test] ${error.message}`);
    process.exit(1);
  });
