import type { Response } from 'express';
import { FormatOptions, renderTranscript, TranscriptionResult } from '@app/contracts';

/**
 * An upload's name as multer hands it over: busboy reads the multipart filename as latin1, so a
 * UTF-8 name arrives as mojibake ("rÃ©union.wav"); decoded again when that gives valid UTF-8.
 */
export function uploadName(name: string | undefined): string | undefined {
  if (!name || !/^[\x00-\xff]*$/.test(name) || !/[\x80-\xff]/.test(name)) return name;
  const decoded = Buffer.from(name, 'latin1').toString('utf8');
  return decoded.includes('\uFFFD') ? name : decoded;
}

/** The download's base name: the upload's name without folders or extension, nothing a header could trip on; "transcript" when nothing is left. */
export function downloadBaseName(fileName: string | undefined): string {
  const last = (uploadName(fileName) ?? '').split(/[\\/]/).pop() ?? '';
  const base = last
    .replace(/\.[^.]*$/, '')
    // control characters (CR, LF, …), quotes, backslashes, semicolons: not in a header parameter
    .replace(/[\x00-\x1f\x7f"\\;]/g, '')
    .trim();
  return base.replace(/^\.+/, '') || 'transcript';
}

/** RFC 6266: `attachment; filename="<ascii>"`, plus `filename*=UTF-8''…` when the name is not plain ASCII. */
export function contentDisposition(fileName: string | undefined, extension: string): string {
  const name = `${downloadBaseName(fileName)}.${extension}`;
  const ascii = name.replace(/[^\x20-\x7e]/g, '_');
  if (ascii === name) return `attachment; filename="${name}"`;
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * The transcript in the asked format, headers set on the response: Content-Type, and (when
 * `download`) Content-Disposition with the upload's name. Returns what the handler returns: an
 * object (serialized as JSON by Nest) or the text itself.
 */
export function sendTranscript(
  response: Response,
  result: TranscriptionResult,
  format: FormatOptions,
  fileName: string | undefined,
  download: boolean,
): object | string {
  const rendered = renderTranscript(result, format.responseFormat, { ...format, words: true });
  response.setHeader('Content-Type', rendered.contentType);
  if (download) response.setHeader('Content-Disposition', contentDisposition(fileName, rendered.extension));
  return rendered.body;
}
