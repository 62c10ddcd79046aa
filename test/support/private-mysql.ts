import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './fleet';
import { waitFor } from './wait';

/**
 * A MariaDB server of one test's own (Debian's mariadbd, the one the stack runs), on a free
 * loopback port with its data in a temporary folder: for faults that stop or restart the database
 * (an outage, a restart under load) without touching the server every other test file shares.
 * Same settings as infra/stack/up.sh, with a smaller buffer pool and redo log.
 */
export class PrivateMysql {
  readonly dir = mkdtempSync(join(tmpdir(), 'im-mysql-'));
  port = 0;
  private child: ChildProcess | undefined;

  /** The URL of the `im` database, as the fleet takes it (`MYSQL_URL`). */
  get url(): string {
    return `mysql://im:im@127.0.0.1:${this.port}/im`;
  }

  private get socket(): string {
    return join(this.dir, 'mysql.sock');
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the server; the first start creates the data folder and the `im` user, a restart keeps both. */
  async start(): Promise<this> {
    const fresh = this.port === 0;
    if (fresh) {
      this.port = await freePort();
      const init = spawnSync(
        'mariadb-install-db',
        ['--no-defaults', `--user=${process.env.USER ?? 'root'}`, `--datadir=${join(this.dir, 'data')}`, '--auth-root-authentication-method=socket', '--skip-test-db'],
        { encoding: 'utf8', timeout: 60_000 },
      );
      if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr}`);
    }
    const child = spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--user=${process.env.USER ?? 'root'}`,
        `--datadir=${join(this.dir, 'data')}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${this.socket}`,
        `--pid-file=${join(this.dir, 'mysql.pid')}`,
        `--log-error=${join(this.dir, 'mysql.log')}`,
        '--skip-name-resolve',
        '--character-set-server=utf8mb4',
        '--collation-server=utf8mb4_unicode_ci',
        '--innodb-buffer-pool-size=64M',
        '--innodb-log-file-size=48M',
        '--max-connections=500',
        '--max-allowed-packet=64M',
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    await waitFor(
      `private mariadb on ${this.port}`,
      () => {
        if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode} (see ${join(this.dir, 'mysql.log')})`);
        return spawnSync('mariadb-admin', ['--no-defaults', `--socket=${this.socket}`, '-uroot', 'ping'], { stdio: 'ignore' }).status === 0;
      },
      60_000,
    );
    if (fresh) {
      const sql = [
        "CREATE USER IF NOT EXISTS 'im'@'127.0.0.1' IDENTIFIED BY 'im'",
        "GRANT ALL PRIVILEGES ON *.* TO 'im'@'127.0.0.1'",
        'CREATE DATABASE IF NOT EXISTS im CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci',
      ].join(';\n');
      const r = spawnSync('mariadb', ['--no-defaults', `--socket=${this.socket}`, '-uroot'], { input: sql, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`could not create the im user: ${r.stderr}`);
    }
    return this;
  }

  /** A clean shutdown (SIGTERM), waited for: the fleet sees its connections refused until start(). */
  async shutdown(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** SIGKILL: a crash; InnoDB recovers what was committed at the next start. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(sig);
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
