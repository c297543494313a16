import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './service-harness';
import { commandOnPort } from './redis-node';

/** true when Debian's redis-sentinel (and redis-server) can be started here. */
export function sentinelAvailable(): boolean {
  const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
  return has('redis-server') && has('redis-sentinel');
}

export const MASTER_NAME = 'txmaster';

interface RedisNode {
  port: number;
  child: ChildProcess;
}

/**
 * One primary, one replica and three sentinels (quorum 2, down after 1 s) on loopback ports of
 * their own, nothing on disk: --save "" --appendonly no, diskless replication, a temp dir each.
 */
export class SentinelTopology {
  readonly dir = mkdtempSync(join(tmpdir(), 'tx-sentinel-'));
  primary!: RedisNode;
  replica!: RedisNode;
  sentinels: RedisNode[] = [];
  private readonly children: ChildProcess[] = [];

  static async start(): Promise<SentinelTopology> {
    const topology = new SentinelTopology();
    await topology.boot();
    return topology;
  }

  /** REDIS_SENTINELS for the services. */
  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  private async boot(): Promise<void> {
    const primaryPort = await freePort();
    this.primary = { port: primaryPort, child: this.redisServer(primaryPort, []) };
    await this.waitForPing(primaryPort);
    const replicaPort = await freePort();
    this.replica = { port: replicaPort, child: this.redisServer(replicaPort, ['--replicaof', '127.0.0.1', String(primaryPort)]) };
    await waitFor('the replica in sync', async () => ((await this.info(replicaPort, 'replication')).includes('master_link_status:up') ? true : undefined), 20_000);
    for (let n = 0; n < 3; n++) {
      const port = await freePort();
      const conf = join(this.dir, `sentinel-${n}.conf`);
      // sentinels rewrite their config file (the state they learn): one writable file each
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${this.dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 3000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      const child = this.spawnTracked('redis-sentinel', [conf]);
      this.sentinels.push({ port, child });
    }
    for (const sentinel of this.sentinels) await this.waitForPing(sentinel.port);
    // every sentinel knows the replica and the other sentinels (quorum needs them) before the test begins
    await waitFor('three sentinels that see the replica and each other', async () => {
      for (const sentinel of this.sentinels) {
        const master = await this.sentinelCommand(sentinel.port, ['SENTINEL', 'MASTER', MASTER_NAME]);
        const fields = toRecord(master as string[]);
        if (Number(fields['num-slaves']) < 1 || Number(fields['num-other-sentinels']) < 2) return undefined;
      }
      return true;
    }, 30_000, 250);
  }

  private redisServer(port: number, extra: string[]): ChildProcess {
    return this.spawnTracked('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no',
      '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', ...extra,
    ]);
  }

  private spawnTracked(command: string, args: string[]): ChildProcess {
    const child = spawn(command, args, { stdio: 'ignore' });
    this.children.push(child);
    return child;
  }

  async waitForPing(port: number): Promise<void> {
    await waitFor(`redis on ${port}`, async () => ((await this.sentinelCommand(port, ['PING'])) === 'PONG' ? true : undefined), 15_000, 100);
  }

  /** One command on a short-lived connection (sentinels and data nodes alike). */
  sentinelCommand(port: number, args: string[]): Promise<unknown> {
    return commandOnPort(port, args);
  }

  async info(port: number, section: string): Promise<string> {
    return String(await this.sentinelCommand(port, ['INFO', section]));
  }

  /** The primary's port as the sentinels say (the first that answers). */
  async masterPort(): Promise<number | undefined> {
    for (const sentinel of this.sentinels) {
      const address = (await this.sentinelCommand(sentinel.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME]).catch(() => undefined)) as string[] | undefined;
      if (address) return Number(address[1]);
    }
    return undefined;
  }

  /** kill -9 the primary: no shutdown, no last replication. */
  killPrimary(): void {
    this.primary.child.kill('SIGKILL');
  }

  /**
   * The killed primary back on its port, empty, as a replica of the new primary, the way a container
   * entrypoint that asks the sentinels restarts it (left to themselves, the sentinels convert a
   * returning primary only after ~10 s). REDIS_REQUIRE_REPLICA_ACK needs a replica again.
   */
  async restartOldPrimaryAsReplicaOf(primaryPort: number): Promise<void> {
    const port = this.primary.port;
    this.primary = { port, child: this.redisServer(port, ['--replicaof', '127.0.0.1', String(primaryPort)]) };
    await this.waitForPing(port);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function toRecord(flat: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]] = flat[i + 1];
  return record;
}
