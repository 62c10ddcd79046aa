import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './fleet';
import { waitFor } from './wait';

/**
 * A redis-server of one test's own (Debian's binary, the one the stack runs), on a free loopback
 * port with its data in a temporary folder: for faults that must not touch the shared test
 * server (out of memory, a restore from an older AOF). Same settings as infra/redis/redis.conf.
 */
export class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'im-redis-'));
  port = 0;
  private child: ChildProcess | undefined;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private args: readonly string[] = [];

  /** Starts the server; a restart keeps the port, the data folder and the first start's settings. */
  async start(extraArgs?: readonly string[]): Promise<this> {
    if (extraArgs) this.args = extraArgs;
    if (this.port !== 0) return this.startOn();
    // A port of our own choosing: another process may take it (or, with cluster mode, its bus port
    // 10000 above, which lies in the ephemeral range) between the check and the bind; then the
    // server exits at once, and another port is tried.
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      try {
        return await this.startOn();
      } catch (err) {
        if (attempt === 5 || this.child?.exitCode === null) throw err;
      }
    }
  }

  private async startOn(): Promise<this> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction', '--save', '', ...this.args],
      { stdio: 'ignore' },
    );
    this.child = child;
    await waitFor(`private redis on ${this.port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      const r = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => {});
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    });
    return this;
  }

  /** A plain client for the test's own commands. */
  client(): Redis {
    const r = new Redis(this.url, { maxRetriesPerRequest: 3 });
    r.on('error', () => {});
    return r;
  }

  /** A clean SHUTDOWN: the AOF holds every write that was acknowledged. */
  async shutdown(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const c = this.client();
    await c.shutdown().catch(() => {});
    c.disconnect();
    await exited;
  }

  /** Copies the data folder (the AOF) aside, to restore later: a backup, or a replica that lags. */
  backup(): string {
    const to = mkdtempSync(join(tmpdir(), 'im-redis-backup-'));
    cpSync(this.dir, to, { recursive: true });
    return to;
  }

  /** Replaces the data folder with a backup (while the server is stopped). */
  restore(from: string): void {
    rmSync(this.dir, { recursive: true, force: true });
    cpSync(from, this.dir, { recursive: true });
  }

  /** SIGKILL: nothing is written at exit; what the AOF holds is what comes back. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A Redis Cluster of one test's own: 3 primaries and 3 replicas on free loopback ports, with a
 * short cluster-node-timeout, so a test can kill a primary and watch its replica take over.
 */
export class PrivateCluster {
  readonly nodes: PrivateRedis[] = Array.from({ length: 6 }, () => new PrivateRedis());

  get addresses(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  async start(nodeTimeoutMs = 1000): Promise<this> {
    await Promise.all(this.nodes.map((n) => n.start(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs), '--cluster-replica-validity-factor', '0'])));
    const r = spawnSync('redis-cli', ['--cluster', 'create', ...this.addresses, '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stdout}${r.stderr}`);
    await waitFor('the private cluster in state ok', async () => {
      for (const n of this.nodes) {
        const c = n.client();
        const info = await c.cluster('INFO').finally(() => c.disconnect());
        if (!String(info).includes('cluster_state:ok')) return false;
      }
      return true;
    }, 60_000);
    return this;
  }

  /** The node serving `slot` as primary now. */
  async primaryOf(slot: number): Promise<PrivateRedis> {
    const c = this.nodes.find((n) => n.running)!.client();
    try {
      const slots = (await c.cluster('SLOTS')) as unknown as [number, number, [string, number, string]][];
      const range = slots.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no node serves slot ${slot}`);
      return this.nodes.find((n) => n.port === range[2][1])!;
    } finally {
      c.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
