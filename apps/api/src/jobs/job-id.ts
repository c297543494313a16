import { randomUUID } from 'node:crypto';
import { ErrorCode, ServiceError } from '@app/contracts';

/** Exactly what newJobId() makes (lower-case UUID v4): no id can name one of BullMQ's own keys. */
const JOB_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function newJobId(): string {
  return randomUUID();
}

/** A path parameter as a job id, or 404 before Redis is asked. */
export function checkedJobId(id: string): string {
  if (!JOB_ID_PATTERN.test(id)) throw new ServiceError(ErrorCode.JobNotFound, 'no job with this id (job ids are UUIDs as returned by POST /transcribe)');
  return id;
}
