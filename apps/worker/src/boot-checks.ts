import { resolve } from 'node:path';
import { LoggerService } from '@nestjs/common';
import { BucketCheck, checkBlobStore } from '@app/blob-store';
import { ConfigError, ServiceConfig } from '@app/config';
import { OFFICIAL_WHISPER_MODELS, ServiceError } from '@app/contracts';
import { assertRedisDatabase, RedisDatabaseCheck } from '@app/redis';
import { resolveWhisperModel, whisperGpuDevices } from '@app/whisper';

/** What the checks ask of the outside world (replaced by fakes in unit tests). */
export interface BootProbes {
  /** GPU devices the whisper addon was built for and can see */
  gpuDevices(): string[];
  redisDatabase(url: string): Promise<RedisDatabaseCheck>;
  /** BLOB_STORE=s3: the bucket exists and takes the credentials (throws a ConfigError if not) */
  blobStore?(config: ServiceConfig): Promise<BucketCheck | 'none'>;
}

const REAL_PROBES: BootProbes = { gpuDevices: whisperGpuDevices, redisDatabase: (url) => assertRedisDatabase(url), blobStore: checkBlobStore };

/**
 * DEVICE=cuda on an addon without a GPU backend would run on the CPU while /health says "cuda":
 * refuse instead. Returns the devices found, for the boot log.
 */
export function checkDevice(config: Pick<ServiceConfig, 'device'>, gpuDevices: () => string[]): string[] {
  if (config.device !== 'cuda') return [];
  const devices = gpuDevices();
  if (devices.length === 0) {
    throw new ConfigError(
      'DEVICE',
      'DEVICE=cuda but the whisper addon sees no GPU: it was built without CUDA (rebuild with WHISPER_CUDA=1 npm run build:native) ' +
        'or no CUDA device is visible to this process; set DEVICE=cpu to run on the CPU',
    );
  }
  return devices;
}

/**
 * A WHISPER_MODEL that is neither official (downloadable) nor a file in MODEL_DIR would fail every
 * request that names no model; refuse to start instead. An official model's missing file is not an
 * error here: it is downloaded on first use.
 */
export function checkDefaultModel(config: Pick<ServiceConfig, 'whisperModel' | 'computeType' | 'modelDir'>): void {
  try {
    resolveWhisperModel(config.whisperModel, config.computeType, config.modelDir);
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    throw new ConfigError(
      'WHISPER_MODEL',
      `"${config.whisperModel}" is neither an official model (${OFFICIAL_WHISPER_MODELS.join(', ')}) ` +
        `nor a file ggml-${config.whisperModel}.bin in MODEL_DIR (${resolve(config.modelDir)})`,
    );
  }
}

/**
 * Settings that parse but cannot work, checked before the worker takes any job: each failure is a
 * ConfigError naming its variable, and the process exits.
 */
export async function runWorkerBootChecks(
  config: ServiceConfig,
  logger: Pick<LoggerService, 'log' | 'warn'>,
  probes: BootProbes = REAL_PROBES,
): Promise<void> {
  const devices = checkDevice(config, probes.gpuDevices);
  if (devices.length > 0) logger.log(`DEVICE=cuda on ${devices.join(', ')}`);
  checkDefaultModel(config);
  if ((await probes.redisDatabase(config.redisUrl)) === 'unverified') {
    logger.warn('Redis did not answer at boot, so the database index in REDIS_URL is not verified');
  }
  if ((await (probes.blobStore ?? checkBlobStore)(config)) === 'unreachable') {
    logger.warn(`S3_ENDPOINT did not answer at boot, so S3_BUCKET "${config.s3?.bucket}" and the credentials are not verified`);
  }
}
