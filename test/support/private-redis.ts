import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

  async start(): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction', '--save', ''],
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

  /** SHUTDOWN without saving anything new (SIGKILL): what the AOF holds is what comes back. */
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
