import { ErrorCode, isOfficialWhisperModel, ServiceError, WorkerHeartbeat } from '@app/contracts';

/**
 * Custom model names are checked against what live workers advertise, so a typo is a 400 now
 * instead of a failed job later. With no worker up we cannot tell, and the worker decides.
 * `field` is the name the client used (whisper_model on /transcribe, model on /v1).
 */
export function assertServableModel(name: string | undefined, workers: readonly WorkerHeartbeat[], field = 'whisper_model'): void {
  if (name === undefined || isOfficialWhisperModel(name)) return;
  if (workers.length === 0 || workers.some((worker) => worker.available_models.includes(name))) return;
  throw new ServiceError(
    ErrorCode.UnknownModel,
    `unknown ${field} "${name}": not an official model and no worker has ggml-${name}.bin in its MODEL_DIR`,
    field,
  );
}
