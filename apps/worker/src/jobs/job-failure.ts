import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import { encodeJobError, ErrorCode, JobCancelledError, ServiceError } from '@app/contracts';

/**
 * A job's failedReason, whatever kind of job failed: a cancel (the one JobCancelledError, whichever
 * stage stopped), a coded failure, or an internal error with an id that travels to the HTTP body
 * while the stack stays in this worker's log line.
 */
export function jobFailureReason(logger: Logger, jobId: string, error: unknown): string {
  if (error instanceof JobCancelledError) {
    logger.log(`job ${jobId} cancelled`);
    return encodeJobError(ErrorCode.JobCancelled, 'job was cancelled');
  }
  if (error instanceof ServiceError && error.code !== ErrorCode.Internal) {
    logger.warn(`job ${jobId} failed: ${error.code}: ${error.message}`);
    return encodeJobError(error.code, error.message, error.field);
  }
  const errorId = randomUUID();
  logger.error(`job ${jobId} failed unexpectedly (error id ${errorId}): ${(error as Error)?.stack ?? String(error)}`);
  return encodeJobError(ErrorCode.Internal, `internal error while processing job ${jobId} (error id ${errorId})`, undefined, errorId);
}
