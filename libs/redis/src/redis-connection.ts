import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import { ClusterSettings, ConfigError, DEFAULT_REDIS_URL, redisHaVars, redisServerOf, SentinelSettings } from '@app/config';

/**
 * The database index in a redis:// URL's path ("/3" → 3, none → 0). Anything else is refused: Number()
 * would turn "/abc" into NaN and ioredis would quietly use database 0, another deployment's queue.
 */
export function redisDatabaseFromUrl(url: URL): number {
  const path = url.pathname;
  if (path === '' || path === '/') return 0;
  if (!/^\/\d{1,9}$/.test(path)) {
    throw new ConfigError('REDIS_URL', `the path must be a database number such as /0 or /3, got "${path}"`);
  }
  return Number(path.slice(1));
}

/**
 * The Sentinel settings that apply to `url`: REDIS_SENTINELS describes REDIS_URL's server, so it
 * applies to URLs on that host:port (any database) and not to another server such as a separate
 * AUDIO_REDIS_URL, which is then reached directly.
 */
export function sentinelFor(url: string, env: Record<string, string | undefined> = process.env): SentinelSettings | undefined {
  const sentinel = redisHaVars(env).sentinel;
  return sentinel && onQueueServer(url, env) ? sentinel : undefined;
}

/**
 * The Redis Cluster settings that apply to `url`, decided as sentinelFor decides: REDIS_CLUSTER_NODES
 * describes REDIS_URL's server, so a separate AUDIO_REDIS_URL stays a plain connection.
 */
export function clusterFor(url: string, env: Record<string, string | undefined> = process.env): ClusterSettings | undefined {
  const cluster = redisHaVars(env).cluster;
  return cluster && onQueueServer(url, env) ? cluster : undefined;
}

function onQueueServer(url: string, env: Record<string, string | undefined>): boolean {
  return redisServerOf(url) === redisServerOf(env.REDIS_URL?.trim() || DEFAULT_REDIS_URL);
}

/**
 * Through the sentinels to the current primary: ioredis asks them for the master's address at each
 * (re)connect and checks the node's role (a demoted primary is left). No failoverDetector: its
 * +switch-master disconnect, arriving while a client is already reconnecting, makes ioredis 5.11
 * end that client for good ("Connection is closed." on every later command; seen in the e2e). A
 * dead primary closes the sockets anyway, and commandTimeout bounds the fail-fast connection.
 */
function sentinelOptions(sentinel: SentinelSettings): RedisOptions {
  return {
    sentinels: sentinel.sentinels,
    name: sentinel.name,
    role: 'master',
    sentinelPassword: sentinel.password,
    // every sentinel unreachable: keep asking, at most every 2 s (null would end the client for good)
    sentinelRetryStrategy: (attempt: number) => Math.min(100 * attempt, 2_000),
    // a write that reached a node demoted meanwhile: reconnect (to the new primary) and resend it
    reconnectOnError: (error: Error) => (/^READONLY/.test(error.message) ? 2 : false),
  };
}

/** What a redis:// or rediss:// URL says of every connection, whatever server it reaches: user, password, TLS. */
function credentialsFromUrl(parsed: URL): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  return {
    username: parsed.username || undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * ioredis options for BullMQ: blocking connections need maxRetriesPerRequest null; a short
 * connect timeout so /health answers 503 promptly when Redis is down. With REDIS_SENTINELS the
 * URL's host and port give way to the sentinels; its database, user and password still apply.
 * The offline queue stays on (BullMQ needs it): commands wait for the reconnect across a failover.
 */
export function redisOptionsFromUrl(url: string, sentinel: SentinelSettings | undefined = sentinelFor(url)): RedisOptions {
  const parsed = new URL(url);
  const server: RedisOptions = sentinel ? sentinelOptions(sentinel) : { host: parsed.hostname, port: Number(parsed.port || 6379) };
  return {
    ...server,
    ...credentialsFromUrl(parsed),
    db: redisDatabaseFromUrl(parsed),
    maxRetriesPerRequest: null,
    connectTimeout: 5_000,
    enableReadyCheck: true,
  };
}

/**
 * ioredis Cluster options for REDIS_URL's server: the URL gives user, password and TLS to every node
 * connection (its host only says which server REDIS_CLUSTER_NODES describes; the seeds and the
 * nodes they announce are dialled). Node connections get BullMQ's maxRetriesPerRequest null unless
 * `overrides` says otherwise.
 */
export function clusterOptionsFromUrl(url: string, overrides: RedisOptions = {}): ClusterOptions {
  const parsed = new URL(url);
  return {
    redisOptions: {
      ...credentialsFromUrl(parsed),
      maxRetriesPerRequest: null,
      connectTimeout: 5_000,
      ...overrides,
    },
    enableReadyCheck: true,
    // every seed unreachable: keep trying, at most every 2 s (null would end the client for good)
    clusterRetryStrategy: (attempt: number) => Math.min(100 * attempt, 2_000),
    slotsRefreshTimeout: 2_000,
  };
}

/** A client of either kind; code typed against Redis gets a Cluster through createRedis. */
export type RedisClient = Redis | Cluster;

/** true for an ioredis Cluster client (its own flag: instanceof fails across copies of ioredis). */
export function isClusterClient(redis: unknown): redis is Cluster {
  return (redis as { isCluster?: unknown } | null)?.isCluster === true;
}

/** Where a set of options points, for messages: the sentinel group or host:port. */
export function describeRedisTarget(options: RedisOptions): string {
  if (options.sentinels?.length) {
    return `the primary of "${options.name}" (sentinels ${options.sentinels.map((s) => `${s.host}:${s.port}`).join(',')})`;
  }
  return `${options.host}:${options.port}`;
}

/** The database index a connection uses (0 unless the URL names one): pub/sub channels are scoped by it. */
export function redisDatabase(redis: RedisClient): number {
  // a cluster has database 0 only (the config refuses another)
  return isClusterClient(redis) ? 0 : (redis.options.db ?? 0);
}

/** A connection to `url`: a Cluster client when REDIS_CLUSTER_NODES applies to it, else a plain (or Sentinel) one. */
export function createRedisClient(url: string, name: string, overrides: RedisOptions = {}): RedisClient {
  const cluster = clusterFor(url);
  if (cluster) return new Cluster(cluster.nodes, clusterOptionsFromUrl(url, { ...overrides, connectionName: name }));
  return new Redis({ ...redisOptionsFromUrl(url), ...overrides, connectionName: name });
}

/**
 * createRedisClient typed as Redis for the many services written against it. A Cluster has the same
 * command, pub/sub, duplicate and quit methods; what it lacks (scanStream, SELECT, options.db) is
 * not used on these clients (redisDatabase and SCAN-free key layouts account for it).
 */
export function createRedis(url: string, name: string, overrides: RedisOptions = {}): Redis {
  return createRedisClient(url, name, overrides) as Redis;
}
