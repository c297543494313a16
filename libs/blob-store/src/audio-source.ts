/**
 * The seam between a job and its audio bytes: the worker reads "the job's audio source", whatever it
 * is — the blob store (an upload) or, with audio_url, the remote server. Both hand the decoder the
 * bytes as they come, a chunk at a time.
 */
export interface AudioSource {
  /** What the bytes are, for logs and errors ("upload", "url https://…"). */
  readonly description: string;
  /** The bytes in order; may throw BlobMissingError (audio_expired) or a source-specific ServiceError. */
  open(): AsyncIterable<Buffer>;
  /** Called once the job is done with the audio (success, failure, cancel): e.g. deletes a stored upload. */
  release(): Promise<void>;
}
