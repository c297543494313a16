import type { Response } from 'express';
import { ERROR_HTTP_STATUS, ErrorBody, ErrorCode } from '@app/contracts';

/**
 * Answers with the service's error body from plain Express middleware (before Nest's filter can
 * run) and closes the connection, so an unread request body is never parsed or waited for.
 */
export function sendErrorAndClose(response: Response, code: ErrorCode, message: string): void {
  if (response.headersSent) return;
  response.set('Connection', 'close');
  sendError(response, code, message);
}

export function sendError(response: Response, code: ErrorCode, message: string): void {
  if (response.headersSent) return;
  const body: ErrorBody = { error: { code, message } };
  response.status(ERROR_HTTP_STATUS[code]).json(body);
}
