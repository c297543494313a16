import { ErrorCode, ServiceError } from '@app/contracts';
import { OutboundPolicy, OutboundRefusedError, redactedUrl } from '@app/outbound';
import { withTimeout } from '../common/with-timeout';
import { newJobId } from '../jobs/job-id';
import type { StoredUpload } from '../upload/stored-upload';

/** A host that takes longer than this to resolve is refused at submission (the worker would wait on it too). */
const RESOLVE_TIMEOUT_MS = 5_000;

/**
 * The job's audio: the upload, or audio_url (exactly one of them). A URL is checked here as a
 * webhook's callback_url is (http/https, the host resolved and its addresses classified: refused
 * → 400 naming audio_url); the worker downloads it, checking it (and every redirect) again then.
 * The URL's job gets an upload record with nothing stored: the API never fetches the audio.
 */
export async function uploadOrAudioUrl(policy: OutboundPolicy, file: StoredUpload | undefined, audioUrl: string | undefined): Promise<StoredUpload> {
  if (audioUrl === undefined) {
    if (!file) throw new ServiceError(ErrorCode.MissingFile, 'send the audio as multipart field "file", or its URL as audio_url', 'file');
    return file;
  }
  if (file) throw new ServiceError(ErrorCode.ValidationFailed, 'send either a file or audio_url, not both', 'audio_url');
  const timedOut = () => new OutboundRefusedError(`the host did not resolve within ${RESOLVE_TIMEOUT_MS / 1000} s`);
  try {
    await withTimeout(policy.check(audioUrl), RESOLVE_TIMEOUT_MS, timedOut);
  } catch (error) {
    if (error instanceof OutboundRefusedError) throw new ServiceError(ErrorCode.ValidationFailed, `audio_url refused: ${error.message}`, 'audio_url');
    throw error;
  }
  return urlUpload(audioUrl);
}

/** The upload record of a URL job: the last path segment as its file name (never the query), no bytes stored yet. */
function urlUpload(audioUrl: string): StoredUpload {
  const path = new URL(redactedUrl(audioUrl)).pathname;
  const name = decodeURIComponentSafe(path.slice(path.lastIndexOf('/') + 1)) || 'audio';
  return { jobId: newJobId(), size: 0, originalname: name, mimetype: 'application/octet-stream', claimed: false };
}

function decodeURIComponentSafe(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
