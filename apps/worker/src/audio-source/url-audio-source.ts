import type { AudioSource } from '@app/blob-store';
import { ServiceConfig } from '@app/config';
import { AUDIO_URL_MAX_REDIRECTS, ErrorCode, ServiceError } from '@app/contracts';
import {
  DownloadLimits,
  guardedGet,
  OutboundDownload,
  OutboundHttpStatusError,
  OutboundPolicy,
  OutboundRefusedError,
  OutboundTimeoutError,
  OutboundTooLargeError,
  redactedUrl,
} from '@app/outbound';

const FIELD = 'audio_url';

/** A job's audio_url download limits from the worker's settings: the upload limit applies to downloads too. */
export function audioUrlLimits(config: Pick<ServiceConfig, 'maxUploadMb' | 'audioUrlTimeoutS' | 'audioUrlStallS'>): DownloadLimits {
  return {
    connectTimeoutMs: Math.min(10_000, config.audioUrlStallS * 1000),
    totalTimeoutMs: config.audioUrlTimeoutS * 1000,
    stallTimeoutMs: config.audioUrlStallS * 1000,
    maxBytes: config.maxUploadMb * 1024 * 1024,
    maxRedirects: AUDIO_URL_MAX_REDIRECTS,
  };
}

/**
 * A job's audio from its audio_url, a chunk at a time (the worker's AudioSource seam): the URL (and
 * each redirect) is checked again here, at download time, since DNS may have changed since the
 * submission's check. Failures, opening or while reading, are ServiceErrors with the audio_url
 * codes; a reader that stops early (a decode error, a cancel) closes the connection.
 */
export class UrlAudioSource implements AudioSource {
  readonly description: string;

  constructor(
    private readonly url: string,
    private readonly policy: OutboundPolicy,
    private readonly limits: DownloadLimits,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.description = `url ${redactedUrl(url)}`;
  }

  async *open(): AsyncIterable<Buffer> {
    const started = Date.now();
    const where = redactedUrl(this.url);
    let download: OutboundDownload;
    try {
      download = await guardedGet(this.policy, this.url, this.limits);
    } catch (error) {
      throw audioUrlFailure(this.url, error);
    }
    const hops = download.redirects ? ` after ${download.redirects} redirect(s) to ${redactedUrl(download.finalUrl)}` : '';
    this.log(`audio_url ${where}: HTTP ${download.status}${hops} from ${download.address}`);
    let bytes = 0;
    try {
      for await (const chunk of download.body as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        yield chunk;
      }
    } catch (error) {
      throw audioUrlFailure(this.url, error);
    } finally {
      download.body.destroy();
    }
    if (bytes === 0) throw new ServiceError(ErrorCode.EmptyFile, `${where} answered with an empty body`, FIELD);
    this.log(`audio_url ${where}: ${bytes} bytes in ${Date.now() - started} ms`);
  }

  /** Nothing was stored for a URL job: nothing to delete. */
  async release(): Promise<void> {}
}

/** A download failure as the job's coded error; messages name the URL without its query (it may hold a signature). */
export function audioUrlFailure(url: string, error: unknown): Error {
  if (error instanceof ServiceError) return error;
  const where = redactedUrl(url);
  const message = (error as Error).message;
  if (error instanceof OutboundRefusedError) return new ServiceError(ErrorCode.AudioUrlRefused, `audio_url refused at download (${where}): ${message}`, FIELD);
  if (error instanceof OutboundTooLargeError) {
    return new ServiceError(ErrorCode.UploadTooLarge, `audio_url is larger than MAX_UPLOAD_MB (${error.maxBytes / (1024 * 1024)} MB): ${message}`, FIELD);
  }
  if (error instanceof OutboundTimeoutError) return new ServiceError(ErrorCode.AudioUrlTimeout, `audio_url could not be downloaded (${where}): ${message}`, FIELD);
  if (error instanceof OutboundHttpStatusError) {
    return new ServiceError(ErrorCode.AudioUrlUnreachable, `audio_url could not be downloaded: ${message} (upstream status ${error.status})`, FIELD);
  }
  return new ServiceError(ErrorCode.AudioUrlUnreachable, `audio_url could not be downloaded (${where}): ${message}`, FIELD);
}

/** The worker's URL sources: one policy (OUTBOUND_ALLOWED_HOSTS) and the download limits from its settings. */
export class UrlAudioSources {
  private readonly policy: OutboundPolicy;
  private readonly limits: DownloadLimits;

  constructor(config: ServiceConfig, private readonly log?: (line: string) => void) {
    this.policy = new OutboundPolicy(config.outboundAllowedHosts);
    this.limits = audioUrlLimits(config);
  }

  forUrl(url: string): UrlAudioSource {
    return new UrlAudioSource(url, this.policy, this.limits, this.log);
  }
}
