import type { IRedisClient } from 'bullmq';

/**
 * WAIT on the connection that made the writes (a BullMQ queue's client): resolves with how many
 * replicas acknowledged every write this connection sent so far. The replication offset is one
 * stream, so writes other connections made to the same server before them are covered too.
 * Redis answers within timeoutMs, with the count reached by then.
 */
export async function replicasAcknowledged(client: IRedisClient, replicas: number, timeoutMs: number): Promise<number> {
  // runCommand: BullMQ's adapter forwards any command by name (ioredis: client.wait(...))
  const acknowledged: unknown = await client.runCommand('wait', [replicas, timeoutMs]);
  return Number(acknowledged);
}
