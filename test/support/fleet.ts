import type { Role } from '@im/contracts';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ensureBundles, roleBundle } from '../../scripts/lib.mjs';
import { apiClient, type ApiClient } from './api';
import { TEST_TOKEN, testServers, topologyEnv, uniqueName } from './env';
import { waitFor } from './wait';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type FleetRole = Role;

/**
 * A loopback port nothing listens on, below Linux's ephemeral range (32768 and up): a port the
 * kernel hands out for outgoing connections (every process here opens many to Redis and MySQL)
 * could be taken again before the server meant for it binds. Several test files run at once, so
 * two may still draw the same port; Fleet.start retries a role that could not listen.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

interface RoleProcess {
  child: ChildProcess;
  port: number;
  output: string[];
  exited: Promise<number | null>;
}

/**
 * Every role process the fleets of this test process started and that still runs. A test file
 * that ends early (a failure under --test-force-exit, an uncaught error) exits without its after
 * hooks: its processes are killed on the way out, so none keeps running, and burning CPU, beside
 * the files that come after it.
 */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/**
 * Real processes of the fleet, as `npm run role` starts them (the roles' bundles), against the test servers, a database
 * of the test's own and a queue prefix of its own.
 */
export class Fleet {
  readonly prefix: string;
  readonly procs = new Map<FleetRole, RoleProcess>();
  api!: ApiClient;
  /** The generated client (@im/client) of this fleet's ingest-api, with the OpenAPI check on every answer. */
  get client(): ApiClient['client'] {
    return this.api.client;
  }
  baseUrl = '';
  /** Roles this fleet stopped itself (kill, stop): the others that exit are restarted with restartOnExit. */
  private readonly stopping = new Set<FleetRole>();
  /** How many times each role was restarted after it exited on its own. */
  readonly restarts = new Map<FleetRole, number>();

  constructor(
    readonly mysqlUrl: string,
    readonly extraEnv: Record<string, string> = {},
    /** Extra node flags for every role (for example --cpu-prof when profiling a benchmark). */
    readonly nodeArgs: readonly string[] = [],
    readonly options: {
      /** Another fleet's queue prefix: processes of one deployment started by two Fleets (a second ingest-api, more workers). */
      prefix?: string;
      /** Start a role again when it exits on its own, as a supervisor would (npm start, Kubernetes). */
      restartOnExit?: boolean;
    } = {},
  ) {
    this.prefix = options.prefix ?? `{${uniqueName('imt')}}`;
  }

  env(role: FleetRole, port: number): NodeJS.ProcessEnv {
    const { redisUrl } = testServers();
    const base: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IM_')) base[k] = v;
    return {
      ...base,
      REDIS_URL: redisUrl,
      MYSQL_URL: this.mysqlUrl,
      IM_API_TOKENS: TEST_TOKEN,
      IM_QUEUE_PREFIX: this.prefix,
      ...topologyEnv(),
      IM_LOG_LEVEL: 'warn',
      IM_QUEUE_BACKOFF_MS: '100',
      IM_RATE_LIMIT_PER_SENDER_PER_S: '0',
      ...(role === 'ingest-api'
        ? { IM_MESSAGE_SERVICE_PORT: String(port), IM_MESSAGE_SERVICE_GRPC_PORT: String(this.grpcPort), IM_DASHBOARD_PORT: String(this.dashboardPort) }
        : { IM_METRICS_PORT: String(port) }),
      ...this.extraEnv,
    };
  }

  /** Starts a role and waits until it is ready (or, with `until: 'health'`, merely up: for a role whose MySQL is down on purpose). */
  /** Port of ingest-api's gRPC server (chosen when ingest-api first starts). */
  grpcPort = 0;
  /** Port of ingest-api's dashboard listener (/queues, /docs; chosen when ingest-api first starts). */
  dashboardPort = 0;

  async start(role: FleetRole, options: { until?: 'ready' | 'health' } = {}): Promise<void> {
    // A first start whose port another test file took meanwhile tries new ports; a restart keeps
    // the role's ports (tests hold its address).
    const first = !this.procs.has(role);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce(role, options);
      } catch (err) {
        if (!first || attempt === 3 || !this.logs(role).includes('EADDRINUSE')) throw err;
        this.procs.delete(role);
        if (role === 'ingest-api') this.grpcPort = this.dashboardPort = 0;
      }
    }
  }

  private async startOnce(role: FleetRole, options: { until?: 'ready' | 'health' }): Promise<void> {
    const port = this.procs.get(role)?.port ?? (await freePort());
    if (role === 'ingest-api' && this.grpcPort === 0) this.grpcPort = await freePort();
    if (role === 'ingest-api' && this.dashboardPort === 0) this.dashboardPort = await freePort();
    // The roles run from their bundles, as production runs them (rebuilt here only when stale:
    // npm test builds them all before the first file starts).
    await ensureBundles([role]);
    const child = spawn(process.execPath, [...this.nodeArgs, '--enable-source-maps', roleBundle(role)], {
      cwd: ROOT,
      env: this.env(role, port),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(...chunk.toString().split('\n').filter(Boolean));
      if (output.length > 300) output.splice(0, output.length - 300);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    this.procs.set(role, { child, port, output, exited });
    this.stopping.delete(role);
    if (this.options.restartOnExit) {
      void exited.then(() => {
        if (this.stopping.has(role) || this.procs.get(role)?.child !== child) return;
        this.restarts.set(role, (this.restarts.get(role) ?? 0) + 1);
        void this.start(role).catch(() => {});
      });
    }
    if (role === 'ingest-api') {
      this.baseUrl = `http://127.0.0.1:${port}`;
      this.api = apiClient(this.baseUrl);
    }
    await waitFor(
      `${role} ${options.until ?? 'ready'} on port ${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${role} exited with ${child.exitCode}: ${output.slice(-5).join('\n')}`);
        const r = await fetch(`http://127.0.0.1:${port}/${options.until ?? 'ready'}`);
        return r.status === 200;
      },
      30_000,
    );
  }

  async startAll(roles: readonly FleetRole[]): Promise<this> {
    await Promise.all(roles.map((r) => this.start(r)));
    return this;
  }

  /** Sends a signal and waits for the exit; returns the exit code. */
  async kill(role: FleetRole, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const p = this.procs.get(role);
    this.stopping.add(role);
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return p?.child.exitCode ?? null;
    p.child.kill(signal);
    return p.exited;
  }

  logs(role: FleetRole): string {
    return this.procs.get(role)?.output.join('\n') ?? '';
  }

  async stop(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((r) => this.kill(r, 'SIGTERM')));
  }
}
