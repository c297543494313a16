/**
 * Queue, job and Redis key names shared by the API and the workers.
 * Queue names are a stored contract: renaming one strands jobs already in Redis.
 */
export const TRANSCRIBE_QUEUE = 'transcribe';

export enum JobName {
  Transcribe = 'transcribe',
  /** POST /detect-language: language probabilities of the first speech, no transcript */
  DetectLanguage = 'detect_language',
}

/** Redis key prefixes and pub/sub channels (everything the service writes lives under `tx:`). */
export const RedisKeys = {
  /** Uploaded audio bytes for a job (binary string, TTL). */
  audio: (jobId: string) => `tx:audio:${jobId}`,
  /** Set when a client cancels a job, so status reads and late workers see it. */
  cancelled: (jobId: string) => `tx:cancelled:${jobId}`,
  /**
   * Worker heartbeats: one hash, field = worker id, value = JSON WorkerHeartbeat. One HGETALL finds
   * every worker (a keyspace SCAN cost ms per upload on a busy Redis and does not work on a Cluster);
   * a beat older than HEARTBEAT_TTL_MS means a dead worker, and readers remove it.
   */
  workerHeartbeats: 'tx:workers',
  /** Ids of the jobs an owner (API key digest) has waiting: fair share and MAX_QUEUED_PER_KEY. */
  queuedByOwner: (owner: string) => `tx:queued:${owner}`,
} as const;

/**
 * Pub/sub channels. Redis pub/sub ignores the database, so each name carries the database index:
 * deployments sharing a Redis server on different databases never hear each other's broadcasts.
 */
export const RedisChannels = {
  /** API → all workers: drop model caches (payload GcRequest). */
  gcRequest: (db: number) => `tx:${db}:gc:request`,
  /** worker → API: one GcReply per worker, on a channel scoped to the request. */
  gcReply: (db: number, requestId: string) => `tx:${db}:gc:reply:${requestId}`,
  /** API → all workers: abort this job if you run it (payload: job id). */
  cancel: (db: number) => `tx:${db}:cancel`,
  /** worker → every API: this job ended (payload: JobEndedMessage as JSON), after BullMQ recorded it. */
  jobEnded: (db: number) => `tx:${db}:job-ended`,
} as const;

/**
 * What a worker announces on RedisChannels.jobEnded: the job, and its result or failure when they are
 * small (up to JOB_END_INLINE_BYTES): the API then answers without reading the job back. Without
 * them the API reads the job's hash.
 */
export interface JobEndedMessage {
  id: string;
  result?: unknown;
  failedReason?: string;
}

/** Results up to this size ride in the job-ended message; every API replica receives every one. */
export const JOB_END_INLINE_BYTES = 64 * 1024;

/** Default worker tuning: a killed worker's job is picked up by another within a minute. */
export const WorkerLockDefaults = {
  lockDurationMs: 20_000,
  stalledIntervalMs: 10_000,
  maxStalledCount: 2,
} as const;

/** How often workers write their heartbeat, and how old one may be before the worker counts as gone. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
export const HEARTBEAT_TTL_MS = 15_000;
