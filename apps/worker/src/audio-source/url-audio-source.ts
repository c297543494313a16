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
 * A job's audio from its audio_url, as a stream of Buffers: the URL (and each redirect) is checked
 * again here, at download time, since DNS may have changed since the submission's check. Failures
 * (here or while reading the stream) are ServiceErrors with the audio_url codes.
 */
export class UrlAudioSource {
  constructor(
    private readonly policy: OutboundPolicy,
    private readonly limits: DownloadLimits,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /**
   * Opens the download (every hop checked, the final answer a 2xx) and gives its body a chunk at a
   * time, bounded by the limits; errors while reading are the same coded ServiceErrors. Stopping
   * the iteration early closes the connection.
   */
  async open(url: string, signal?: AbortSignal): Promise<AsyncIterable<Buffer>> {
    const started = Date.now();
    let download: OutboundDownload;
    try {
      download = await guardedGet(this.policy, url, this.limits, signal);
    } catch (error) {
      throw audioUrlFailure(url, error);
    }
    const hops = download.redirects ? ` after ${download.redirects} redirect(s) to ${redactedUrl(download.finalUrl)}` : '';
    this.log(`audio_url ${redactedUrl(url)}: HTTP ${download.status}${hops} from ${download.address}`);
    return this.chunks(url, download.body, started);
  }

  /** The whole body in one Buffer, for a pipeline that takes its audio at once (bounded by maxBytes). */
  async read(url: string, signal?: AbortSignal): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.open(url, signal)) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    if (bytes.length === 0) throw new ServiceError(ErrorCode.EmptyFile, `${redactedUrl(url)} answered with an empty body`, FIELD);
    return bytes;
  }

  private async *chunks(url: string, body: AsyncIterable<Buffer>, started: number): AsyncGenerator<Buffer> {
    let bytes = 0;
    try {
      for await (const chunk of body) {
        bytes += chunk.length;
        yield chunk;
      }
    } catch (error) {
      throw audioUrlFailure(url, error);
    }
    this.log(`audio_url ${redactedUrl(url)}: ${bytes} bytes in ${Date.now() - started} ms`);
  }
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

/** The worker's URL source: its OUTBOUND_ALLOWED_HOSTS and download limits. */
export function urlAudioSource(config: ServiceConfig, log?: (line: string) => void): UrlAudioSource {
  return new UrlAudioSource(new OutboundPolicy(config.outboundAllowedHosts), audioUrlLimits(config), log);
}
