import { basename } from 'node:path';
import { DownloadProgressListener } from '@app/model-cache';

/** A job's view of a model file arriving: the file's name, bytes so far, total when known. */
export type ModelDownloadListener = (file: string, receivedBytes: number, totalBytes: number | undefined) => void;

/**
 * Fans a model load's download progress out to every job waiting for that model. The cache runs one
 * load per model however many jobs ask, so the jobs subscribe by cache key instead of passing their
 * own callback into the load.
 */
export class DownloadWatchers {
  private readonly listeners = new Map<string, Set<ModelDownloadListener>>();

  /** Subscribes until the returned function is called. */
  watch(key: string, listener: ModelDownloadListener): () => void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  /** The progress callback a load of `key` hands to the downloader. */
  reporter(key: string): DownloadProgressListener {
    return (received, total, path) => {
      for (const listener of this.listeners.get(key) ?? []) listener(basename(path), received, total);
    };
  }
}
