import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { BlobStore } from '@app/blob-store';
import { ErrorCode, ServiceError } from '@app/contracts';
import type { StoredUpload } from './stored-upload';

// busboy is what multer parses with (already installed with it); typed here for what we use
interface FileInfo {
  filename?: string;
  mimeType: string;
}
interface FieldInfo {
  valueTruncated: boolean;
  nameTruncated: boolean;
}
interface Busboy extends NodeJS.WritableStream {
  on(event: 'file', listener: (name: string, stream: Readable & { truncated?: boolean }, info: FileInfo) => void): this;
  on(event: 'field', listener: (name: string, value: string, info: FieldInfo) => void): this;
  on(event: 'filesLimit' | 'fieldsLimit' | 'partsLimit' | 'close', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}
type BusboyFactory = (options: { headers: IncomingMessage['headers']; limits: Record<string, number>; defParamCharset?: string }) => Busboy;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const createBusboy = require('busboy') as BusboyFactory;
// multer's way of building the body from field names (a[b], list[]): the forms read it that way
// eslint-disable-next-line @typescript-eslint/no-require-imports
const appendField = require('append-field') as (body: object, name: string, value: string) => void;

/** The multipart field that carries the audio. */
export const FILE_FIELD = 'file';
/** The same limits multer had: a few small fields and one file. */
const LIMITS = { files: 1, fields: 32, fieldSize: 64 * 1024, parts: 64 };
/** A refused body is read and dropped up to this (so the client sees the answer, not EPIPE); past it the connection is cut. */
const DISCARD_LIMIT_BYTES = 8 * 1024 * 1024;

export interface MultipartUploadOptions {
  store: BlobStore;
  maxBytes: number;
  ttlSeconds: number;
  newJobId: () => string;
  /**
   * Checks the fields that came before the file, as the file part starts: a bad field refuses the
   * request before any audio is stored. Fields after the file are checked later (by the route).
   */
  checkFieldsBeforeFile?: (fields: Record<string, unknown>) => void;
  /** The answer to this request: a refused body's connection is cut only once the answer went out. */
  response?: ServerResponse;
}

export interface MultipartUpload {
  fields: Record<string, unknown>;
  file?: StoredUpload;
}

const unexpectedFile = () => new ServiceError(ErrorCode.ValidationFailed, `the audio must be sent in the multipart field "${FILE_FIELD}" (one file only)`, FILE_FIELD);
const tooLarge = (maxBytes: number) =>
  new ServiceError(ErrorCode.UploadTooLarge, `the file is larger than MAX_UPLOAD_MB=${Math.round(maxBytes / 1024 / 1024)}`, FILE_FIELD);
class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection during the upload');
  }
}

/**
 * Browsers and fetch escape LF, CR and '"' in multipart names as %0A, %0D, %22 (WHATWG); busboy
 * leaves them escaped. Exactly these three are decoded, as multer did (a bare % is never escaped).
 */
export function decodeFormDataName(name: string): string {
  return name.replace(/%0A|%0D|%22/gi, (match) => ({ '%0A': '\n', '%0D': '\r' })[match.toUpperCase()] ?? '"');
}

/** The file's bytes as they arrive, refused as soon as they pass `maxBytes`. */
async function* limited(stream: Readable, maxBytes: number): AsyncIterable<Buffer> {
  let received = 0;
  for await (const piece of stream as AsyncIterable<Buffer>) {
    received += piece.length;
    if (received > maxBytes) throw tooLarge(maxBytes);
    yield piece;
  }
}

/**
 * Reads a multipart request: fields into a body object (as multer did), the file part straight into
 * the blob store as it arrives — never whole in memory. Rejects at the first problem (413 while
 * streaming, a bad field, a second file, malformed multipart, the client gone), and then nothing of
 * the file stays in the store. The request body left unread is drained (bounded) so the answer can go out.
 */
export function receiveMultipartUpload(request: IncomingMessage, options: MultipartUploadOptions): Promise<MultipartUpload> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, unknown> = {};
    let file: StoredUpload | undefined;
    let fileStream: Readable | undefined;
    let writing: Promise<void> | undefined;
    let failure: Error | undefined;
    let parser: Busboy;

    const fail = (error: Error) => {
      if (failure) return;
      failure = error;
      request.off('close', onClose);
      request.unpipe(parser);
      drainRest(request, options.response);
      // stops the store's write (it removes what it wrote); a file already stored whole is deleted; then the answer
      if (fileStream && !fileStream.destroyed) fileStream.destroy(error);
      void (writing ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => (file ? options.store.delete(file.jobId).catch(() => undefined) : undefined))
        .then(() => reject(error));
    };
    const onClose = () => {
      if (!request.complete) fail(new ClientGoneError());
    };

    try {
      parser = createBusboy({ headers: request.headers, limits: LIMITS, defParamCharset: 'utf8' });
    } catch (error) {
      reject(new ServiceError(ErrorCode.ValidationFailed, `malformed multipart request: ${(error as Error).message}`));
      return;
    }
    parser.on('field', (rawName, value, info) => {
      if (failure) return;
      const name = decodeFormDataName(rawName);
      if (info.valueTruncated || info.nameTruncated) return fail(new ServiceError(ErrorCode.ValidationFailed, `field "${name}" is too long`, name));
      appendField(fields, name, value);
    });
    parser.on('file', (rawName, stream, info) => {
      const name = decodeFormDataName(rawName);
      if (failure || name !== FILE_FIELD || file || writing) {
        stream.resume();
        return fail(failure ?? unexpectedFile());
      }
      try {
        options.checkFieldsBeforeFile?.(fields);
      } catch (error) {
        stream.resume();
        return fail(error as Error);
      }
      fileStream = stream;
      const jobId = options.newJobId();
      writing = options.store.write(jobId, limited(stream, options.maxBytes), { ttlSeconds: options.ttlSeconds }).then(
        ({ sizeBytes }) => {
          file = { jobId, size: sizeBytes, originalname: info.filename !== undefined ? decodeFormDataName(info.filename) : 'audio', mimetype: info.mimeType, claimed: false };
        },
        (error: Error) => fail(error),
      );
    });
    parser.on('filesLimit', () => fail(unexpectedFile()));
    parser.on('fieldsLimit', () => fail(new ServiceError(ErrorCode.ValidationFailed, `too many form fields (at most ${LIMITS.fields})`)));
    parser.on('partsLimit', () => fail(new ServiceError(ErrorCode.ValidationFailed, `too many multipart parts (at most ${LIMITS.parts})`)));
    parser.on('error', (error) => fail(new ServiceError(ErrorCode.ValidationFailed, `malformed multipart request: ${error.message}`)));
    parser.on('close', () => {
      void (writing ?? Promise.resolve()).then(() => {
        if (failure) return;
        request.off('close', onClose);
        resolve({ fields, file });
      });
    });
    request.on('close', onClose);
    request.pipe(parser);
  });
}

/**
 * The rest of a refused body is read and dropped, up to DISCARD_LIMIT_BYTES; past it the connection
 * is cut, but never before the answer went out: a reset that overtakes the 400/413 leaves a fast
 * client with "connection reset" instead of the reason (a loaded machine answers after > 8 MB).
 */
function drainRest(request: IncomingMessage, response: ServerResponse | undefined): void {
  let drained = 0;
  let cutting = false;
  const cut = () => request.socket.destroy();
  request.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained <= DISCARD_LIMIT_BYTES || cutting) return;
    cutting = true;
    if (!response || response.writableFinished || response.destroyed) return cut();
    // TCP backpressure holds the client until the answer is written; then the connection goes
    request.pause();
    response.once('close', cut);
  });
  request.resume();
}
