import { ComputeType, Device } from '@app/contracts';
import { logFormatVar, logLevelVar, LogSettings } from './env-logging';
import { hostListVar, webhookSecretVar } from './env-webhooks';
import { BLOB_STORES, BlobStoreKind, S3Settings, s3SettingsVar } from './env-blob-store';
import { REDIS_HA_VARIABLES, RedisHaSettings, redisHaVars } from './env-redis';

/** Every setting the service reads from the environment, parsed and checked once at boot. */
export interface ServiceConfig extends LogSettings, RedisHaSettings {
  redisUrl: string;
  /** where upload bytes wait for a worker (AUDIO_REDIS_URL, default REDIS_URL): an in-memory Redis keeps audio off disks */
  audioRedisUrl: string;
  port: number;
  device: Device;
  computeType: ComputeType;
  modelDir: string;
  whisperModel: string;
  /** whisper models kept loaded per worker (VAD and diarization models stay loaded beside them) */
  modelCacheSize: number;
  /** alignment (wav2vec2) models kept loaded per worker, one per language */
  alignCacheSize: number;
  hfAuthToken?: string;
  maxUploadMb: number;
  maxAudioSeconds: number;
  syncTimeoutS: number;
  adminToken?: string;
  apiKeys: string[];
  workerConcurrency: number;
  /** how long uploaded audio stays in Redis if no worker takes it */
  audioTtlS: number;
  /** threads whisper.cpp uses per job */
  whisperThreads: number;
  /** wall-clock limit for decoding one upload with ffmpeg */
  decodeTimeoutS: number;
  /** max time to wait for a model download before failing the job */
  modelDownloadTimeoutS: number;
  /** a model download that receives no byte for this long is cut off and resumed (MODEL_DOWNLOAD_STALL_S) */
  modelDownloadStallS: number;
  /** how long a model server may take to answer with headers; ends when the body starts */
  modelDownloadConnectTimeoutS: number;
  /** Hugging Face endpoint or mirror every model downloads from (HF_ENDPOINT, as huggingface_hub reads it) */
  hfEndpoint: string;
  /** whisper states decoded at once on a GPU (batch_size is capped by it) */
  gpuDecoders: number;
  /** interface the API binds: loopback unless set (the Docker images set 0.0.0.0) */
  host: string;
  /** an upload that sends no bytes for this long is cut off with 408 */
  uploadIdleTimeoutS: number;
  /** waiting jobs one API key may have; beyond it new jobs get 429 */
  maxQueuedPerKey: number;
  /** how long finished jobs (results and errors) stay readable */
  resultTtlS: number;
  /** how long POST /gc waits for every worker's answer */
  gcTimeoutMs: number;
  /** how long a stopping worker may finish its job before it exits (the job is then retried elsewhere) */
  shutdownGraceS: number;
  /** browser origins allowed to call the API (CORS_ORIGINS): exact origins, or ['*'] for any; empty = same-origin only */
  corsOrigins: string[];
  /** a worker frees a model no job has used for this long (MODEL_IDLE_UNLOAD_S); 0 = never */
  modelIdleUnloadS: number;
  /** worker processes `npm start` runs on this machine (WORKERS) */
  workers: number;
  /** signs webhook deliveries of requests without callback_secret (WEBHOOK_SECRET, whsec_<base64>) */
  webhookSecret?: string;
  /** host names / IP literals outbound requests may reach although not public (OUTBOUND_ALLOWED_HOSTS) */
  outboundAllowedHosts: string[];
  /** attempts per webhook delivery, the first included (WEBHOOK_MAX_ATTEMPTS) */
  webhookMaxAttempts: number;
  /** the first webhook retry waits this long, each next one twice as long (WEBHOOK_RETRY_BASE_MS) */
  webhookRetryBaseMs: number;
  /** an audio_url download (all redirects, the whole body) must end within this (AUDIO_URL_TIMEOUT_S) */
  audioUrlTimeoutS: number;
  /** an audio_url server that sends nothing for this long fails the job (AUDIO_URL_STALL_S) */
  audioUrlStallS: number;
  /** when set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`; unset, it is public like /health */
  metricsToken?: string;
  /** requests per minute one API key (or one client IP without a key) may make, shared by every API replica through Redis; 0 = no limit (RATE_LIMIT_PER_MIN) */
  rateLimitPerMin: number;
  /** where uploads wait for a worker (BLOB_STORE): redis (default, in memory) or s3 */
  blobStore: BlobStoreKind;
  /** the bucket when blobStore is s3 (S3_ENDPOINT, S3_BUCKET, S3_PREFIX, S3_REGION, S3_FORCE_PATH_STYLE) */
  s3?: S3Settings;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid environment variable ${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Every variable loadConfig reads (deployment files are checked against this list). */
export const ENV_VARIABLES = [
  'REDIS_URL', 'AUDIO_REDIS_URL', 'PORT', 'DEVICE', 'COMPUTE_TYPE', 'MODEL_DIR', 'WHISPER_MODEL', 'MODEL_CACHE_SIZE', 'HF_AUTH_TOKEN',
  'MAX_UPLOAD_MB', 'MAX_AUDIO_SECONDS', 'SYNC_TIMEOUT_S', 'ADMIN_TOKEN', 'API_KEYS', 'WORKER_CONCURRENCY',
  'AUDIO_TTL_S', 'WHISPER_THREADS', 'DECODE_TIMEOUT_S', 'MODEL_DOWNLOAD_TIMEOUT_S', 'GPU_DECODERS',
  'HOST', 'UPLOAD_IDLE_TIMEOUT_S', 'MAX_QUEUED_PER_KEY', 'RESULT_TTL_S', 'GC_TIMEOUT_MS', 'SHUTDOWN_GRACE_S',
  'MODEL_DOWNLOAD_STALL_S', 'MODEL_DOWNLOAD_CONNECT_TIMEOUT_S', 'HF_ENDPOINT',
  'ALIGN_CACHE_SIZE', 'CORS_ORIGINS', 'METRICS_TOKEN', 'MODEL_IDLE_UNLOAD_S', 'WORKERS',
  'WEBHOOK_SECRET', 'OUTBOUND_ALLOWED_HOSTS', 'WEBHOOK_MAX_ATTEMPTS', 'WEBHOOK_RETRY_BASE_MS',
  'AUDIO_URL_TIMEOUT_S', 'AUDIO_URL_STALL_S',
  'LOG_LEVEL', 'LOG_FORMAT', 'RATE_LIMIT_PER_MIN',
  'BLOB_STORE', 'S3_ENDPOINT', 'S3_BUCKET', 'S3_PREFIX', 'S3_REGION', 'S3_FORCE_PATH_STYLE',
  ...REDIS_HA_VARIABLES,
] as const;

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `expected an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function enumVar<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${allowed.join('|')}, got "${raw}"`);
  }
  return raw as T;
}

function optionalString(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

/** An http(s) base URL without a trailing slash. */
function httpUrlVar(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `expected an http(s) URL such as ${fallback}, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, `expected an http(s) URL such as ${fallback}, got "${raw}"`);
  if (url.search || url.hash) throw new ConfigError(name, `expected a base URL without ?query or #fragment, got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

/**
 * A comma list of browser origins (scheme://host[:port], as browsers send them in Origin), or `*`
 * alone for any origin. A path or trailing slash would never match an Origin header: refused.
 */
function originListVar(env: Env, name: string): string[] {
  const items = (env[name] ?? '').split(',').map((item) => item.trim()).filter(Boolean);
  if (items.includes('*')) {
    if (items.length > 1) throw new ConfigError(name, `"*" allows every origin: give it alone, not with a list (got "${env[name]}")`);
    return ['*'];
  }
  const origins = items.map((item) => {
    let origin: string | undefined;
    try {
      const url = new URL(item);
      if (url.protocol === 'http:' || url.protocol === 'https:') origin = url.origin;
    } catch {
      // reported below
    }
    // browsers send the origin lower-cased and without a default port: that is what must match
    if (origin?.toLowerCase() !== item.toLowerCase()) {
      throw new ConfigError(name, `expected origins such as https://app.example.com or http://localhost:3000 (scheme, host and a non-default port only), got "${item}"`);
    }
    return origin;
  });
  return [...new Set(origins)];
}

export function loadConfig(env: Env = process.env): ServiceConfig {
  const redisUrl = env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(redisUrl)) throw new ConfigError('REDIS_URL', `expected redis://host:port, got "${redisUrl}"`);
  const blobStore = enumVar(env, 'BLOB_STORE', BLOB_STORES, 'redis');
  const audioRedisUrl = env.AUDIO_REDIS_URL?.trim() || redisUrl;
  if (!/^rediss?:\/\//.test(audioRedisUrl)) throw new ConfigError('AUDIO_REDIS_URL', `expected redis://host:port, got "${audioRedisUrl}"`);
  return {
    redisUrl,
    audioRedisUrl,
    port: intVar(env, 'PORT', 8000, 1, 65535),
    device: enumVar(env, 'DEVICE', ['cpu', 'cuda'] as const, 'cpu'),
    computeType: enumVar(env, 'COMPUTE_TYPE', ['float16', 'int8'] as const, 'int8'),
    modelDir: optionalString(env, 'MODEL_DIR') ?? './models',
    whisperModel: optionalString(env, 'WHISPER_MODEL') ?? 'small',
    modelCacheSize: intVar(env, 'MODEL_CACHE_SIZE', 3, 1, 64),
    alignCacheSize: intVar(env, 'ALIGN_CACHE_SIZE', 2, 1, 64),
    hfAuthToken: optionalString(env, 'HF_AUTH_TOKEN'),
    maxUploadMb: intVar(env, 'MAX_UPLOAD_MB', 200, 1, 10_000),
    maxAudioSeconds: intVar(env, 'MAX_AUDIO_SECONDS', 4 * 3600, 1, 48 * 3600),
    syncTimeoutS: intVar(env, 'SYNC_TIMEOUT_S', 600, 1, 24 * 3600),
    adminToken: optionalString(env, 'ADMIN_TOKEN'),
    apiKeys: (env.API_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean),
    workerConcurrency: intVar(env, 'WORKER_CONCURRENCY', 1, 1, 64),
    audioTtlS: intVar(env, 'AUDIO_TTL_S', 24 * 3600, 60, 30 * 24 * 3600),
    whisperThreads: intVar(env, 'WHISPER_THREADS', 0, 0, 256),
    decodeTimeoutS: intVar(env, 'DECODE_TIMEOUT_S', 300, 1, 24 * 3600),
    modelDownloadTimeoutS: intVar(env, 'MODEL_DOWNLOAD_TIMEOUT_S', 1800, 5, 24 * 3600),
    modelDownloadStallS: intVar(env, 'MODEL_DOWNLOAD_STALL_S', 60, 1, 3600),
    modelDownloadConnectTimeoutS: intVar(env, 'MODEL_DOWNLOAD_CONNECT_TIMEOUT_S', 20, 1, 600),
    hfEndpoint: httpUrlVar(env, 'HF_ENDPOINT', 'https://huggingface.co'),
    gpuDecoders: intVar(env, 'GPU_DECODERS', 4, 1, 64),
    host: optionalString(env, 'HOST') ?? '127.0.0.1',
    uploadIdleTimeoutS: intVar(env, 'UPLOAD_IDLE_TIMEOUT_S', 30, 1, 3600),
    maxQueuedPerKey: intVar(env, 'MAX_QUEUED_PER_KEY', 100, 1, 1_000_000),
    resultTtlS: intVar(env, 'RESULT_TTL_S', 3600, 60, 30 * 24 * 3600),
    gcTimeoutMs: intVar(env, 'GC_TIMEOUT_MS', 10_000, 100, 600_000),
    shutdownGraceS: intVar(env, 'SHUTDOWN_GRACE_S', 30, 1, 24 * 3600),
    corsOrigins: originListVar(env, 'CORS_ORIGINS'),
    metricsToken: optionalString(env, 'METRICS_TOKEN'),
    webhookSecret: webhookSecretVar(env, 'WEBHOOK_SECRET'),
    outboundAllowedHosts: hostListVar(env, 'OUTBOUND_ALLOWED_HOSTS'),
    webhookMaxAttempts: intVar(env, 'WEBHOOK_MAX_ATTEMPTS', 8, 1, 50),
    webhookRetryBaseMs: intVar(env, 'WEBHOOK_RETRY_BASE_MS', 30_000, 100, 24 * 3600 * 1000),
    audioUrlTimeoutS: intVar(env, 'AUDIO_URL_TIMEOUT_S', 600, 1, 24 * 3600),
    audioUrlStallS: intVar(env, 'AUDIO_URL_STALL_S', 30, 1, 3600),
    modelIdleUnloadS: intVar(env, 'MODEL_IDLE_UNLOAD_S', 0, 0, 30 * 24 * 3600),
    workers: intVar(env, 'WORKERS', 1, 1, 64),
    logLevel: logLevelVar(env, 'LOG_LEVEL'),
    logFormat: logFormatVar(env, 'LOG_FORMAT'),
    rateLimitPerMin: intVar(env, 'RATE_LIMIT_PER_MIN', 0, 0, 1_000_000),
    blobStore,
    // S3_PREFIX untrimmed: a key prefix may end in a space; an empty one is refused
    s3: s3SettingsVar(blobStore, {
      endpoint: optionalString(env, 'S3_ENDPOINT'),
      bucket: optionalString(env, 'S3_BUCKET'),
      prefix: env.S3_PREFIX,
      region: optionalString(env, 'S3_REGION'),
      forcePathStyle: optionalString(env, 'S3_FORCE_PATH_STYLE'),
    }),
    ...redisHaVars(env),
  };
}
