import { randomUUID } from 'node:crypto';
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ERROR_HTTP_STATUS, ErrorBody, ErrorCode, isOpenAiPath, ServiceError, toOpenAiError } from '@app/contracts';
import { isRedisConnectionError } from '@app/redis';

/** HTTP statuses Nest/multer raise themselves, mapped to our codes. */
const CODE_FOR_STATUS: Partial<Record<number, ErrorCode>> = {
  [HttpStatus.BAD_REQUEST]: ErrorCode.ValidationFailed,
  [HttpStatus.UNAUTHORIZED]: ErrorCode.Unauthorized,
  [HttpStatus.FORBIDDEN]: ErrorCode.Forbidden,
  [HttpStatus.NOT_FOUND]: ErrorCode.NotFound,
  [HttpStatus.PAYLOAD_TOO_LARGE]: ErrorCode.UploadTooLarge,
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: ErrorCode.UnsupportedMedia,
  [HttpStatus.SERVICE_UNAVAILABLE]: ErrorCode.RedisUnavailable,
};

function httpMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  return Array.isArray(message) ? message.join('; ') : String(message ?? exception.message);
}

/**
 * Every error leaves the API as {"error": {"code", "message", "field"?}}; unexpected ones get an id.
 * Under /v1 (OpenAI's routes) the same error in OpenAI's shape {"error": {"message", "type", "param", "code"}}.
 */
@Catch()
export class ErrorBodyFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<Request>();
    const { status, body } = this.toBody(exception);
    if (response.headersSent) return;
    response.status(status).json(isOpenAiPath(request.path) ? toOpenAiError(status, body) : body);
  }

  private toBody(exception: unknown): { status: number; body: ErrorBody } {
    if (exception instanceof ServiceError) {
      if (ERROR_HTTP_STATUS[exception.code] === 500) return this.internal(exception, exception.errorId);
      return {
        status: ERROR_HTTP_STATUS[exception.code],
        body: { error: { code: exception.code, message: exception.message, ...(exception.field ? { field: exception.field } : {}) } },
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      let message = httpMessage(exception);
      let field: string | undefined;
      // multer's words for a wrong file field
      if (/unexpected field/i.test(message)) {
        field = 'file';
        message = 'the audio must be sent in the multipart field "file" (one file only)';
      }
      if (status === HttpStatus.PAYLOAD_TOO_LARGE) field = 'file';
      const code = CODE_FOR_STATUS[status] ?? (status < 500 ? ErrorCode.ValidationFailed : ErrorCode.Internal);
      return { status, body: { error: { code, message, ...(field ? { field } : {}) } } };
    }
    if (isRedisConnectionError(exception)) {
      return { status: 503, body: { error: { code: ErrorCode.RedisUnavailable, message: `Redis is not reachable: ${(exception as Error).message}` } } };
    }
    return this.internal(exception);
  }

  /** Every 500 carries an id that is also in the log line with the details (the worker's id when it failed there). */
  private internal(exception: unknown, loggedAs?: string): { status: number; body: ErrorBody } {
    const errorId = loggedAs ?? randomUUID();
    const details = exception instanceof ServiceError ? exception.message : ((exception as Error)?.stack ?? String(exception));
    this.logger.error(`internal error ${errorId}: ${details}`);
    return {
      status: 500,
      body: { error: { code: ErrorCode.Internal, message: `internal error (id ${errorId})`, error_id: errorId } },
    };
  }
}
