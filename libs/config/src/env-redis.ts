import { ConfigError } from './env';

/** Readers of the Redis high-availability variables (loadConfig and the Redis connection factory call them). */

type Env = Record<string, string | undefined>;

export interface SentinelAddress {
  host: string;
  port: number;
}

/** How to reach REDIS_URL's server through Redis Sentinel: the primary of `name`, as the sentinels say. */
export interface SentinelSettings {
  sentinels: SentinelAddress[];
  /** the master group the sentinels monitor (REDIS_SENTINEL_NAME) */
  name: string;
  /** the sentinels' own password (REDIS_SENTINEL_PASSWORD); the data password stays in REDIS_URL */
  password?: string;
}

/** How to reach REDIS_URL's server as a Redis Cluster (REDIS_CLUSTER_NODES): seed nodes; the rest is discovered. */
export interface ClusterSettings {
  nodes: SentinelAddress[];
}

export interface RedisHaSettings {
  /** set when REDIS_SENTINELS is: every connection to REDIS_URL's server then goes through the sentinels */
  sentinel?: SentinelSettings;
  /** set when REDIS_CLUSTER_NODES is: every connection to REDIS_URL's server is then a cluster client */
  cluster?: ClusterSettings;
  /** replicas that must acknowledge a new job before the API answers 202 (REDIS_REQUIRE_REPLICA_ACK; 0 = do not wait) */
  requireReplicaAck: number;
  /** how long the API waits for those acknowledgements before answering 503 (REDIS_REPLICA_ACK_TIMEOUT_MS) */
  replicaAckTimeoutMs: number;
  /** BullMQ's key prefix (QUEUE_PREFIX); a Redis Cluster needs a hash tag such as {bull} so a queue's keys share a slot */
  queuePrefix: string;
}

export const REDIS_HA_VARIABLES = [
  'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINEL_PASSWORD', 'REDIS_REQUIRE_REPLICA_ACK', 'REDIS_REPLICA_ACK_TIMEOUT_MS', 'QUEUE_PREFIX',
] as const;

const DEFAULT_SENTINEL_PORT = 26379;
const DEFAULT_REDIS_PORT = 6379;
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** `host:port,host:port` (port 26379 when left out; IPv6 as [::1]:26379). */
export function sentinelListVar(env: Env, name: string, defaultPort = DEFAULT_SENTINEL_PORT): SentinelAddress[] {
  const items = (env[name] ?? '').split(',').map((item) => item.trim()).filter(Boolean);
  return items.map((item) => {
    const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(item);
    const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
    if (!match || port < 1 || port > 65535) {
      const kind = defaultPort === DEFAULT_SENTINEL_PORT ? 'sentinel' : 'node';
      throw new ConfigError(name, `expected ${kind} addresses such as 10.0.0.1:${defaultPort},10.0.0.2:${defaultPort}, got "${item}"`);
    }
    return { host: match[1].replace(/^\[|\]$/g, ''), port };
  });
}

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/**
 * BullMQ's prefix: letters, digits and `_-.:{}`. With braces it must be one hash tag (`{bull}`,
 * `{tx}:bull`): Redis Cluster hashes only the first {...} of a key, and BullMQ's scripts touch
 * many keys of one queue at once, which a cluster allows only within one slot.
 */
function queuePrefixVar(env: Env, name: string, cluster: boolean): string {
  const raw = env[name]?.trim();
  // a cluster needs the tag; an explicit prefix is never changed behind the operator's back
  if (!raw) return cluster ? '{bull}' : 'bull';
  if (!/^[A-Za-z0-9_.:{}-]{1,64}$/.test(raw)) throw new ConfigError(name, `expected a key prefix such as bull or {bull} (letters, digits, _-.:{}), got "${raw}"`);
  const braces = raw.replace(/[^{}]/g, '');
  if (braces !== '' && (braces !== '{}' || /\{\}/.test(raw))) {
    throw new ConfigError(name, `expected at most one non-empty hash tag such as {bull}, got "${raw}"`);
  }
  if (cluster && braces === '') {
    throw new ConfigError(name, `with REDIS_CLUSTER_NODES the prefix needs a hash tag such as {${raw}} (BullMQ keeps a queue's keys in one cluster slot), got "${raw}"`);
  }
  return raw;
}

/** host:port of a redis:// URL (6379 when left out): two URLs with the same one name the same server. */
export function redisServerOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname.toLowerCase()}:${parsed.port || DEFAULT_REDIS_PORT}`;
}

/**
 * REDIS_CLUSTER_NODES: seed nodes of REDIS_URL's server (user, password and TLS still come from the
 * URL). A cluster has database 0 only, so a URL on that server naming another is refused rather
 * than quietly sharing database 0 with whatever lives there.
 */
function clusterSettings(env: Env, nodes: SentinelAddress[], sentinel: boolean): ClusterSettings | undefined {
  if (nodes.length === 0) return undefined;
  if (sentinel) throw new ConfigError('REDIS_CLUSTER_NODES', 'cannot be combined with REDIS_SENTINELS: a server is reached either as a cluster or through sentinels');
  const redisUrl = env.REDIS_URL?.trim() || DEFAULT_REDIS_URL;
  const audioUrl = env.AUDIO_REDIS_URL?.trim() || redisUrl;
  for (const [name, url] of [['REDIS_URL', redisUrl], ['AUDIO_REDIS_URL', audioUrl]] as const) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue; // loadConfig reports a malformed URL by its own name
    }
    if (name === 'AUDIO_REDIS_URL' && redisServerOf(url) !== redisServerOf(redisUrl)) continue;
    if (parsed.pathname !== '' && parsed.pathname !== '/' && parsed.pathname !== '/0') {
      throw new ConfigError(name, `a Redis Cluster (REDIS_CLUSTER_NODES) has database 0 only, got "${parsed.pathname}": drop the path (or use /0)`);
    }
  }
  return { nodes };
}

export function redisHaVars(env: Env): RedisHaSettings {
  const sentinels = sentinelListVar(env, 'REDIS_SENTINELS');
  const name = env.REDIS_SENTINEL_NAME?.trim() || 'mymaster';
  const password = env.REDIS_SENTINEL_PASSWORD || undefined;
  const requireReplicaAck = intVar(env, 'REDIS_REQUIRE_REPLICA_ACK', 0, 0, 16);
  const cluster = clusterSettings(env, sentinelListVar(env, 'REDIS_CLUSTER_NODES', DEFAULT_REDIS_PORT), sentinels.length > 0);
  return {
    sentinel: sentinels.length > 0 ? { sentinels, name, password } : undefined,
    cluster,
    requireReplicaAck,
    replicaAckTimeoutMs: intVar(env, 'REDIS_REPLICA_ACK_TIMEOUT_MS', 1_000, 10, 60_000),
    queuePrefix: queuePrefixVar(env, 'QUEUE_PREFIX', cluster !== undefined),
  };
}
