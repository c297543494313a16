import Redis from 'ioredis';

/** What every worker's reply to a broadcast carries. */
interface WorkerReply {
  worker_id: string;
}

/**
 * Collects the live workers' replies to one broadcast (POST /gc, POST/DELETE /models): replies come
 * back on `<replyPrefix><request id>` channels of the shared subscriber. A worker without a live
 * heartbeat when the broadcast started is not waited for, and its reply is ignored.
 */
export class WorkerReplies<R extends WorkerReply> {
  private readonly pending = new Map<string, (reply: R) => void>();

  constructor(
    private readonly subscriber: Redis,
    private readonly replyPrefix: string,
  ) {}

  /** Subscribes once at boot; not awaited: with Redis down the API must still start (ioredis subscribes once it connects). */
  listen(): void {
    this.subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
      if (!channel.startsWith(this.replyPrefix)) return;
      try {
        this.pending.get(channel.slice(this.replyPrefix.length))?.(JSON.parse(message) as R);
      } catch {
        // a malformed reply is ignored; that worker shows as timeout
      }
    });
    this.subscriber.psubscribe(`${this.replyPrefix}*`).catch(() => undefined);
  }

  /**
   * Sends the request (publish gets the request id) and waits until every expected worker replied or
   * timeoutMs passed; `missing` lists the ids of the workers that did not reply.
   */
  async collect(
    requestId: string,
    expected: readonly WorkerReply[],
    timeoutMs: number,
    publish: () => Promise<unknown>,
  ): Promise<{ replies: R[]; missing: string[] }> {
    const known = new Set(expected.map((worker) => worker.worker_id));
    const replies = new Map<string, R>();
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve) => {
      if (known.size === 0) return resolve();
      timer = setTimeout(resolve, timeoutMs);
      this.pending.set(requestId, (reply) => {
        if (!known.has(reply.worker_id)) return;
        replies.set(reply.worker_id, reply);
        if (replies.size === known.size) resolve();
      });
    });
    try {
      await publish();
      await done;
    } finally {
      clearTimeout(timer);
      this.pending.delete(requestId);
    }
    return { replies: [...replies.values()], missing: [...known].filter((id) => !replies.has(id)) };
  }
}
