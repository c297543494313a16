import os from 'node:os';
import { Logger } from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { DownloadOptions } from '@app/model-cache';

/**
 * How every model kind downloads a missing file: HF token, time limit, progress in the worker log,
 * and a warning with the full path when a model cannot be had (the error body only says MODEL_DIR/…).
 */
export function downloadOptions(config: ServiceConfig, logger: Logger): DownloadOptions {
  return {
    authToken: config.hfAuthToken,
    timeoutMs: config.modelDownloadTimeoutS * 1000,
    log: (message) => logger.log(message),
    warn: (message) => logger.warn(message),
  };
}

/** CPU threads for inference: WHISPER_THREADS, or every core. */
export function inferenceThreads(config: ServiceConfig): number {
  return config.whisperThreads || Math.max(1, os.availableParallelism());
}
