import { ErrorCode, JOB_LIST_DEFAULT_LIMIT, JOB_LIST_MAX_LIMIT, JOB_LIST_STATUSES, PublicJobStatus, ServiceError } from '@app/contracts';
import { decodeCursor, IndexEntry } from './job-index';

/** GET /jobs's query, checked. */
export interface JobListQuery {
  status?: PublicJobStatus;
  limit: number;
  /** continue after this job (the previous page's next_cursor) */
  after?: IndexEntry;
}

const FIELDS = ['status', 'limit', 'cursor'];

const invalid = (field: string, message: string) => new ServiceError(ErrorCode.ValidationFailed, message, field);

/** One plain value per field: `?status=a&status=b` and `?status[x]=a` are refused, not guessed at. */
function single(query: Record<string, unknown>, field: string): string | undefined {
  const value = query[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(field, `${field} must be given once, as a plain value`);
  return value;
}

/** `?status=…&limit=…&cursor=…` → the listing's parameters; 400 validation_failed naming the field otherwise. */
export function readJobListQuery(query: Record<string, unknown>): JobListQuery {
  const unknown = Object.keys(query).find((field) => !FIELDS.includes(field));
  if (unknown !== undefined) throw invalid(unknown, `unknown query parameter "${unknown}" (GET /jobs takes ${FIELDS.join(', ')})`);

  const status = single(query, 'status');
  if (status !== undefined && !(JOB_LIST_STATUSES as readonly string[]).includes(status)) {
    throw invalid('status', `status must be one of ${JOB_LIST_STATUSES.join(', ')}`);
  }

  const limitText = single(query, 'limit');
  const limit = limitText === undefined ? JOB_LIST_DEFAULT_LIMIT : /^\d{1,4}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(limit >= 1 && limit <= JOB_LIST_MAX_LIMIT)) throw invalid('limit', `limit must be an integer from 1 to ${JOB_LIST_MAX_LIMIT} (default ${JOB_LIST_DEFAULT_LIMIT})`);

  const cursor = single(query, 'cursor');
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  if (cursor !== undefined && !after) throw invalid('cursor', 'cursor must be a next_cursor from an earlier GET /jobs answer');

  return { ...(status ? { status: status as PublicJobStatus } : {}), limit, ...(after ? { after } : {}) };
}
