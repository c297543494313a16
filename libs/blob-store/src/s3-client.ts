import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ConfigError, S3Settings } from '@app/config';

const CONNECT_TIMEOUT_MS = 5_000;
/** a stalled socket (no byte either way) for this long fails the request; streaming bodies keep it alive */
const SOCKET_IDLE_TIMEOUT_MS = 60_000;

/**
 * A client for the configured bucket. Credentials come from the SDK's default chain
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, profiles, instance roles).
 */
export function s3ClientFor(settings: S3Settings): S3Client {
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    // the SDK's default CRC checksums on every PUT are refused by some S3-compatible servers
    // (older MinIO and Ceph, R2 on some operations); S3 needs them only where it says so
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: SOCKET_IDLE_TIMEOUT_MS },
  });
}

/** How the boot check ended: the bucket answered, or the endpoint could not be reached (the process starts anyway, like with Redis down). */
export type BucketCheck = 'ready' | 'unreachable';

/**
 * HEAD on the bucket at boot: a bucket that does not exist or credentials it refuses stop the
 * process with a ConfigError naming the variable to fix, instead of failing every upload later.
 */
export async function assertBucketReady(client: S3Client, settings: S3Settings): Promise<BucketCheck> {
  const where = `bucket "${settings.bucket}" at ${settings.endpoint ?? `AWS S3 (${settings.region})`}`;
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }));
    return 'ready';
  } catch (error) {
    const failure = error as Error & { $metadata?: { httpStatusCode?: number }; Code?: string };
    const status = failure.$metadata?.httpStatusCode;
    // a HEAD answer has no body: the SDK names its error 'Unknown' or after the status ('NotFound', 'Forbidden')
    const reason = failure.Code ?? (failure.name && failure.name !== 'Unknown' ? failure.name : `HTTP ${status}`);
    if (status === 404 || reason === 'NoSuchBucket' || reason === 'NotFound') {
      throw new ConfigError('S3_BUCKET', `${where} does not exist (create it, with a short lifecycle expiry: see the README)`);
    }
    if (status === 403 || status === 401 || /InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|CredentialsProviderError/i.test(`${reason} ${failure.message}`)) {
      throw new ConfigError(
        'AWS_ACCESS_KEY_ID',
        `${where} refused the credentials (${reason}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones) to a key that may read, write and list the bucket`,
      );
    }
    if (status === 301 || reason === 'PermanentRedirect' || reason === 'AuthorizationHeaderMalformed') {
      throw new ConfigError('S3_REGION', `${where} is in another region than "${settings.region}" (${reason})`);
    }
    if (status === undefined && !(failure as { $response?: unknown }).$response) return 'unreachable';
    throw new ConfigError('S3_ENDPOINT', `${where} answered HEAD with ${status ?? '?'} ${reason}: ${failure.message}`);
  }
}
