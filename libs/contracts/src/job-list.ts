import type { PublicJobStatus } from './jobs';

/**
 * GET /jobs: a key's own jobs, newest first. Each owner has a Redis sorted set of its job ids
 * (score: when the API accepted the job), so a listing reads that key's jobs only, never a scan of
 * the queue.
 */
export const JobListKeys = {
  /** the transcription jobs one owner (API key digest, "anonymous" or "admin") submitted */
  byOwner: (owner: string) => `tx:jobs-of:${owner}`,
  /** every transcription job: the admin token's listing */
  all: 'tx:jobs-of-all',
} as const;

export const JOB_LIST_STATUSES: readonly PublicJobStatus[] = ['queued', 'active', 'completed', 'failed', 'cancelled'];
export const JOB_LIST_DEFAULT_LIMIT = 20;
export const JOB_LIST_MAX_LIMIT = 100;

/** One job in a listing: its view without the result. Times are ISO 8601. */
export interface JobSummary {
  job_id: string;
  status: PublicJobStatus;
  stage: string;
  progress: number;
  created_at: string;
  /** when a worker took it (absent while queued, and for a job cancelled before that) */
  started_at?: string;
  /** when it completed, failed or was cancelled by its worker */
  finished_at?: string;
  /** the upload's name, when the client sent one */
  file_name?: string;
  /** seconds of audio, once completed */
  duration?: number;
  /** the detected or forced language, once completed */
  language?: string;
  /** failed or cancelled: why */
  error?: { code: string; message: string; field?: string; error_id?: string };
}

export interface JobListBody {
  jobs: JobSummary[];
  /** pass as `cursor` for the next (older) page; absent when this page reached the oldest job */
  next_cursor?: string;
}
