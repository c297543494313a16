import { ConfigError } from '@app/config';
import { redisAnswers } from './local-redis';
import { redisOptionsFromUrl } from './redis-connection';
import { assertRedisDatabase } from './redis-database-check';

describe('redisOptionsFromUrl', () => {
  it('takes the database from the path', () => {
    expect(redisOptionsFromUrl('redis://127.0.0.1:6379').db).toBe(0);
    expect(redisOptionsFromUrl('redis://127.0.0.1:6379/').db).toBe(0);
    expect(redisOptionsFromUrl('redis://127.0.0.1:6379/12').db).toBe(12);
  });

  it.each(['/abc', '/1/2', '/-1', '/1.5', '/ 3'])('refuses the path %s naming REDIS_URL', (path) => {
    expect(() => redisOptionsFromUrl(`redis://127.0.0.1:6379${path}`)).toThrow(ConfigError);
    expect(() => redisOptionsFromUrl(`redis://127.0.0.1:6379${path}`)).toThrow(/REDIS_URL/);
  });
});

describe('assertRedisDatabase', () => {
  let redisUp = false;
  beforeAll(async () => {
    redisUp = await redisAnswers('127.0.0.1', 6379);
  });

  it('needs no server for database 0', async () => {
    await expect(assertRedisDatabase('redis://127.0.0.1:1')).resolves.toBe('default');
  });

  it('does not block boot when Redis does not answer', async () => {
    const started = Date.now();
    await expect(assertRedisDatabase('redis://127.0.0.1:1/3')).resolves.toBe('unverified');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('accepts a database the server has', async () => {
    // npm test starts one (scripts/ensure-redis.ts): without it this must fail, not pass unseen
    expect(redisUp).toBe(true);
    await expect(assertRedisDatabase('redis://127.0.0.1:6379/12')).resolves.toBe('selected');
  });

  it('refuses a database the server does not have, naming REDIS_URL', async () => {
    // npm test starts one (scripts/ensure-redis.ts): without it this must fail, not pass unseen
    expect(redisUp).toBe(true);
    const error = await assertRedisDatabase('redis://127.0.0.1:6379/99').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/REDIS_URL/);
    expect((error as Error).message).toMatch(/database 99/);
  });
});
