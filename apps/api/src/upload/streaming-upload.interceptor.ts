import { CallHandler, ExecutionContext, Inject, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { catchError, finalize, from, Observable, switchMap, throwError } from 'rxjs';
import type { BlobStore } from '@app/blob-store';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { newJobId } from '../jobs/job-id';
import { receiveMultipartUpload } from './multipart-upload';
import { AUDIO_BLOB_STORE, StoredUpload } from './stored-upload';

/** Route metadata: a check of the fields that precede the file part (see CheckFieldsBeforeFile). */
export const FIELDS_BEFORE_FILE_CHECK = 'upload:fieldsBeforeFileCheck';

/**
 * Replaces multer: the request's fields land in `request.body`, its file in the blob store as it
 * arrives (`request.file` is then a StoredUpload, never the bytes). An upload no job claimed by the
 * end of the request (refused, failed, nobody to run it) is deleted here.
 */
@Injectable()
export class StreamingUploadInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Upload');

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(AUDIO_BLOB_STORE) private readonly store: BlobStore,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request & { file?: StoredUpload }>();
    const response = http.getResponse<Response>();
    const checkFieldsBeforeFile = this.reflector.get<((fields: Record<string, unknown>) => void) | undefined>(FIELDS_BEFORE_FILE_CHECK, context.getHandler());
    const received = receiveMultipartUpload(request, {
      store: this.store,
      maxBytes: this.config.maxUploadMb * 1024 * 1024,
      ttlSeconds: this.config.audioTtlS,
      newJobId,
      checkFieldsBeforeFile,
      response,
    });
    return from(received).pipe(
      catchError((error: unknown) => {
        // the body was not read to its end: this connection cannot carry another request
        if (!response.headersSent) response.setHeader('Connection', 'close');
        return throwError(() => error);
      }),
      switchMap(({ fields, file }) => {
        request.body = fields;
        request.file = file;
        return next.handle().pipe(
          // a refused request: its upload is gone before the answer goes out
          catchError((error: unknown) => from(this.discard(file)).pipe(switchMap(() => throwError(() => error)))),
          // any other end without a job (a stream the client closed...)
          finalize(() => void this.discard(file)),
        );
      }),
    );
  }

  /** Deletes an upload no job claimed (once); never throws — its TTL is the backstop. */
  private async discard(file: (StoredUpload & { discarded?: boolean }) | undefined): Promise<void> {
    if (!file || file.claimed || file.discarded) return;
    file.discarded = true;
    await this.store.delete(file.jobId).catch((error: Error) => this.logger.warn(`upload ${file.jobId} not deleted (its TTL removes it): ${error.message}`));
  }
}
