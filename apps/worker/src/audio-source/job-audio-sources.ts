import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AudioSource, BlobMissingError, BlobStore, createBlobStore } from '@app/blob-store';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { ErrorCode, ServiceError } from '@app/contracts';
import { createRedis } from '@app/redis';
import { WORKER_ID } from '../control/worker-identity';
import { UrlAudioSources } from './url-audio-source';

/**
 * "The job's audio source": where a job's bytes come from, read a chunk at a time. Today an upload
 * in the blob store (AUDIO_REDIS_URL); a job with audio_url gets its URL source here instead.
 */
@Injectable()
export class JobAudioSources implements OnApplicationShutdown {
  private readonly store: BlobStore;
  private readonly urls: UrlAudioSources;
  private readonly logger = new Logger('UrlAudioSource');

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    // the worker's connection waits for Redis to come back (a job in hand keeps its audio's TTL)
    this.store = createBlobStore(config, (url) => createRedis(url, `worker-${WORKER_ID}-audio`, { enableAutoPipelining: true }));
    this.urls = new UrlAudioSources(config, (line) => this.logger.log(line));
  }

  /** The audio of a job: its audio_url's download, else its upload (stored under its id by the API). */
  forJob(jobId: string, audioUrl?: unknown): AudioSource {
    if (typeof audioUrl === 'string') return this.urls.forUrl(audioUrl);
    return new StoredUploadSource(this.store, jobId);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/** An upload in the blob store; gone (expired, its in-memory store restarted or flushed) → audio_expired (410). */
export class StoredUploadSource implements AudioSource {
  readonly description = 'upload';

  constructor(
    private readonly store: BlobStore,
    private readonly jobId: string,
  ) {}

  async *open(): AsyncIterable<Buffer> {
    try {
      yield* this.store.read(this.jobId);
    } catch (error) {
      if (error instanceof BlobMissingError) {
        throw new ServiceError(ErrorCode.AudioExpired, 'the uploaded audio is gone (expired, or its audio store was restarted or flushed) before a worker could read it all');
      }
      throw error;
    }
  }

  release(): Promise<void> {
    return this.store.delete(this.jobId);
  }
}
