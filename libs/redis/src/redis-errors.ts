/** ioredis's ways of saying "Redis is not reachable right now" (as opposed to a bad command). */
const CONNECTION_ERROR = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|Connection is closed|Command timed out|Stream isn't writeable|enableOfflineQueue|Reached the max retries/i;

export function isRedisConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'MaxRetriesPerRequestError' || CONNECTION_ERROR.test(error.message);
}
