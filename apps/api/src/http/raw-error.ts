import type { Response } from 'express';
import { ERROR_HTTP_STATUS, ErrorBody, ErrorCode, isOpenAiPath, toOpenAiError } from '@app/contracts';

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
  const status = ERROR_HTTP_STATUS[code];
  // OpenAI's routes answer in OpenAI's error shape, from middleware too
  response.status(status).json(isOpenAiPath(response.req?.path ?? '') ? toOpenAiError(status, body) : body);
}
