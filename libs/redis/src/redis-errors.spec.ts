import { isRedisConnectionError } from './redis-errors';

describe('isRedisConnectionError', () => {
  it('recognises connection failures', () => {
    const maxRetries = new Error('Reached the max retries per request limit (which is 1).');
    maxRetries.name = 'MaxRetriesPerRequestError';
    expect(isRedisConnectionError(maxRetries)).toBe(true);
    expect(isRedisConnectionError(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe(true);
    expect(isRedisConnectionError(new Error('Command timed out'))).toBe(true);
  });

  it('leaves other errors alone', () => {
    expect(isRedisConnectionError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
    expect(isRedisConnectionError('ECONNREFUSED')).toBe(false);
  });
});
