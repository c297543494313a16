import { randomUUID } from 'node:crypto';

/** The header a request id arrives in and is echoed back in. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** An id a client or proxy may choose: short, and nothing that could forge or break a log line. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The value when it is a sane request id (from a header or from job data), else undefined. */
export function saneRequestId(value: unknown): string | undefined {
  return typeof value === 'string' && SANE_REQUEST_ID.test(value) ? value : undefined;
}

/** The incoming id when it is sane, else a fresh UUID (an odd header is replaced, not refused). */
export function requestIdFrom(header: string | string[] | undefined): string {
  return saneRequestId(Array.isArray(header) ? header[0] : header) ?? randomUUID();
}
