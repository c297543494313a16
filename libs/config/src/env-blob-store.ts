import { ConfigError } from './env';

/** Where uploads wait for a worker: Redis (default: audio stays in memory) or S3-compatible object storage. */
export const BLOB_STORES = ['redis', 's3'] as const;
export type BlobStoreKind = (typeof BLOB_STORES)[number];

/** An S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Ceph RGW); credentials come from the AWS SDK's default chain. */
export interface S3Settings {
  /** custom endpoint (MinIO, R2, Ceph); undefined = AWS S3 for the region */
  endpoint?: string;
  bucket: string;
  /** every object key is `${prefix}${jobId}`; the stale-object sweep only looks under it */
  prefix: string;
  region: string;
  /** `endpoint/bucket/key` instead of `bucket.endpoint/key` (MinIO, Ceph and local servers need it) */
  forcePathStyle: boolean;
}

/** The raw S3_* values, read by loadConfig (so ENV_VARIABLES' check sees each name). */
export interface S3Vars {
  endpoint?: string;
  bucket?: string;
  prefix?: string;
  region?: string;
  forcePathStyle?: string;
}

const DEFAULT_PREFIX = 'audio/';
const DEFAULT_REGION = 'us-east-1';
// S3 bucket naming rules (R2, MinIO and Ceph accept the same or looser)
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION_NAME = /^[a-z0-9-]{1,64}$/i;
// object keys are at most 1024 bytes; leave room for the job id
const MAX_PREFIX_BYTES = 512;

/** The S3 settings when BLOB_STORE=s3 (S3_BUCKET required), undefined otherwise (the S3_* variables are then ignored). */
export function s3SettingsVar(kind: BlobStoreKind, vars: S3Vars): S3Settings | undefined {
  if (kind !== 's3') return undefined;
  const bucket = vars.bucket?.trim();
  if (!bucket) throw new ConfigError('S3_BUCKET', 'BLOB_STORE=s3 needs the bucket uploads are stored in (it must exist)');
  if (!BUCKET_NAME.test(bucket)) throw new ConfigError('S3_BUCKET', `expected a bucket name (3-63 lower-case letters, digits, dots and hyphens), got "${bucket}"`);
  const endpoint = endpointVar(vars.endpoint);
  const prefix = vars.prefix ?? DEFAULT_PREFIX;
  // an empty prefix would let the stale-object sweep delete anything old in the bucket
  if (prefix === '') throw new ConfigError('S3_PREFIX', `must not be empty: objects older than AUDIO_TTL_S under it are deleted (default "${DEFAULT_PREFIX}")`);
  if (prefix.startsWith('/') || Buffer.byteLength(prefix) > MAX_PREFIX_BYTES || /[\u0000-\u001f\u007f]/.test(prefix)) {
    throw new ConfigError('S3_PREFIX', `expected a key prefix such as "${DEFAULT_PREFIX}" (no leading slash or control characters, at most ${MAX_PREFIX_BYTES} bytes), got "${prefix}"`);
  }
  const region = vars.region?.trim() || DEFAULT_REGION;
  if (!REGION_NAME.test(region)) throw new ConfigError('S3_REGION', `expected a region name such as ${DEFAULT_REGION} or auto, got "${region}"`);
  // a custom endpoint is usually MinIO/Ceph/a local server, which need path-style; AWS prefers virtual-hosted
  const forcePathStyle = booleanVar('S3_FORCE_PATH_STYLE', vars.forcePathStyle, endpoint !== undefined);
  return { ...(endpoint ? { endpoint } : {}), bucket, prefix, region, forcePathStyle };
}

function endpointVar(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username) {
    throw new ConfigError('S3_ENDPOINT', `expected an http(s) URL such as https://<account>.r2.cloudflarestorage.com or http://minio:9000, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

function booleanVar(name: string, raw: string | undefined, fallback: boolean): boolean {
  const value = raw?.trim().toLowerCase();
  if (!value) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}
