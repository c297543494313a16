/**
 * The audio file of a multipart request, already in the blob store under its job's id (the API
 * never holds it whole). Until a job is queued on it the request owns it: the interceptor deletes it
 * when the request ends unclaimed (refused, failed, no worker...); a queued job hands it to the worker.
 */
export interface StoredUpload {
  /** the id the job will have: the blob is stored under it */
  readonly jobId: string;
  readonly size: number;
  readonly originalname: string;
  readonly mimetype: string;
  /** set by the job service once the job is queued: the worker deletes the blob from then on */
  claimed: boolean;
}

/** The blob store of uploads (AUDIO_REDIS_URL): see @app/blob-store. */
export const AUDIO_BLOB_STORE = Symbol('AUDIO_BLOB_STORE');
