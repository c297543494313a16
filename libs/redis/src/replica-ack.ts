import type { IRedisClient } from 'bullmq';
import type Redis from 'ioredis';

/**
 * WAIT on the connection that made the writes (a BullMQ queue's client): resolves with how many
 * replicas acknowledged every write this connection sent so far. The replication offset is one
 * stream, so writes other connections made to the same server before them are covered too.
 * Redis answers within timeoutMs, with the count reached by then.
 *
 * On a Redis Cluster a keyless WAIT would go to any node, so it is sent on each master's own
 * connection of this client (the ones that carried its writes) and the smallest count wins: a
 * master this client wrote nothing to answers at once with its connected replicas.
 */
export async function replicasAcknowledged(client: IRedisClient, replicas: number, timeoutMs: number): Promise<number> {
  if (client.isCluster) {
    // BullMQ's adapter passes unknown properties through to the ioredis Cluster
    const masters = (client as unknown as { nodes(role: 'master'): Redis[] }).nodes('master');
    if (masters.length === 0) return 0;
    const counts = await Promise.all(masters.map((node) => node.wait(replicas, timeoutMs)));
    return Math.min(...counts.map(Number));
  }
  // runCommand: BullMQ's adapter forwards any command by name (ioredis: client.wait(...))
  const acknowledged: unknown = await client.runCommand('wait', [replicas, timeoutMs]);
  return Number(acknowledged);
}
