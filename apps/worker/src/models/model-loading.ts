import os from 'node:os';
import { Logger } from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { DownloadOptions, DownloadProgressListener } from '@app/model-cache';

/**
 * How every model kind downloads a missing file: from HF_ENDPOINT with the HF token; a connect
 * timeout for the headers (MODEL_DOWNLOAD_CONNECT_TIMEOUT_S), then a stall timeout
 * (MODEL_DOWNLOAD_STALL_S) and the overall limit (MODEL_DOWNLOAD_TIMEOUT_S); progress in the worker
 * log and to onProgress (e.g. a job's "downloading_model" stage); a warning with the full path when a
 * model cannot be had (the error body only says MODEL_DIR/…).
 */
export function downloadOptions(config: ServiceConfig, logger: Logger, onProgress?: DownloadProgressListener): DownloadOptions {
  return {
    authToken: config.hfAuthToken,
    hfEndpoint: config.hfEndpoint,
    timeoutMs: config.modelDownloadTimeoutS * 1000,
    connectTimeoutMs: config.modelDownloadConnectTimeoutS * 1000,
    stallTimeoutMs: config.modelDownloadStallS * 1000,
    onProgress,
    log: (message) => logger.log(message),
    warn: (message) => logger.warn(message),
  };
}

/** CPU threads for inference: WHISPER_THREADS, or every core. */
export function inferenceThreads(config: ServiceConfig): number {
  return config.whisperThreads || Math.max(1, os.availableParallelism());
}
