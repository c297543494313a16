import Redis from 'ioredis';
import { decodeJobEvent, JobEventEntry, jobEventsKey } from '@app/contracts';
import { isClusterClient, RedisClient } from '@app/redis';

/** XREAD's reply: per stream, its entries as [id, [field, value, …]]. */
type XReadReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

/**
 * The API's side of the job-events channel: reads one job's Redis Stream in order, from the start
 * or after a given id (SSE's Last-Event-ID). Each reader has its own connection (a duplicate of the
 * API's): XREAD BLOCK holds its connection, and the shared one serves every request.
 */
export class JobEventsReader {
  private readonly connection: Redis;
  private lastId: string;
  private closed = false;

  constructor(shared: Redis, private readonly jobId: string, afterId = '0') {
    // the shared connection's commandTimeout (5 s) stays above the block time used here
    this.connection = duplicateNamed(shared, 'api-job-events');
    // a connection error surfaces through the next read's rejection; this keeps ioredis from logging it unhandled
    this.connection.on('error', () => undefined);
    this.lastId = afterId;
  }

  /** The events after the last one read, waiting up to blockMs for some (0: not at all); [] when none came (or closed). Unknown entries are skipped. */
  async next(blockMs: number): Promise<JobEventEntry[]> {
    if (this.closed) return [];
    let reply: XReadReply;
    try {
      const key = jobEventsKey(this.jobId);
      // XREAD's BLOCK 0 would wait for ever: without BLOCK it answers at once
      reply = (await (blockMs > 0
        ? this.connection.xread('COUNT', 100, 'BLOCK', blockMs, 'STREAMS', key, this.lastId)
        : this.connection.xread('COUNT', 100, 'STREAMS', key, this.lastId))) as XReadReply;
    } catch (error) {
      // close() during a blocked read rejects it: that is the end, not an error
      if (this.closed) return [];
      throw error;
    }
    const entries: JobEventEntry[] = [];
    for (const [id, fields] of reply?.[0]?.[1] ?? []) {
      this.lastId = id;
      const event = decodeJobEvent(fields);
      if (event) entries.push({ id, event });
    }
    return entries;
  }

  /** Stops reading now (a blocked read returns []) and drops the connection. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection.disconnect();
  }
}

/** A job's latest event (XREVRANGE … COUNT 1), or undefined when its stream is empty or gone. */
export async function lastJobEvent(redis: Redis, jobId: string): Promise<JobEventEntry | undefined> {
  const [entry] = (await redis.xrevrange(jobEventsKey(jobId), '+', '-', 'COUNT', 1)) as [id: string, fields: string[]][];
  const event = entry ? decodeJobEvent(entry[1]) : undefined;
  return entry && event ? { id: entry[0], event } : undefined;
}

/**
 * A new connection like `shared`, named `name`. A Cluster's duplicate takes (startup nodes, cluster
 * options): its node connections' name goes in redisOptions, and a plain options object in first
 * place would be read as the node list.
 */
function duplicateNamed(shared: Redis, name: string): Redis {
  const client = shared as RedisClient;
  if (!isClusterClient(client)) return client.duplicate({ connectionName: name });
  return client.duplicate([], { redisOptions: { ...client.options.redisOptions, connectionName: name } }) as unknown as Redis;
}
