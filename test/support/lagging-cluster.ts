import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './fleet';
import { ReplicationProxy } from './replication-proxy';
import { waitFor } from './wait';

const SLOTS = 16384;

/**
 * Every redis-server started here and every data folder not removed yet: when the test process
 * ends without stop() (a test's timeout, ^C, a crash), they go with it.
 */
const live = new Set<ChildProcess>();
const folders = new Set<string>();
const abandon = () => {
  for (const c of live) c.kill('SIGKILL');
  for (const dir of folders) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
};
process.once('exit', abandon);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    abandon();
    // Nobody else handles it (the test runner may): end as the signal would have.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

/**
 * One node of a LaggingCluster: a redis-server of the test's own and the ReplicationProxy in front
 * of it. The cluster knows the node by the proxy's address (cluster-announce-port, and
 * replica-announce-port for INFO): clients and replicas reach it through the proxy, the cluster
 * bus goes straight to the server.
 */
export class LaggingNode {
  readonly dir = mkdtempSync(join(tmpdir(), 'im-redis-lag-'));
  /** The server's own port (direct, past the proxy). */
  port = 0;
  /** The cluster bus port (direct). */
  busPort = 0;
  readonly proxy = new ReplicationProxy(0);
  private child: ChildProcess | undefined;
  /** The server's last lines of log, for errors. */
  private log: string[] = [];

  constructor(
    /** A name for errors: n0..n5. */
    readonly name: string,
    private readonly nodeTimeoutMs: number,
  ) {
    folders.add(this.dir);
  }

  /** The address the cluster announces for the node (its proxy): what clients and replicas use. */
  get address(): string {
    return `127.0.0.1:${this.proxy.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A client straight to the server (past the proxy), for the test's own checks on this node. */
  client(): Redis {
    // Bounded: a port that answers nothing (not a Redis, a stopped one) fails the command.
    const r = new Redis({ host: '127.0.0.1', port: this.port, maxRetriesPerRequest: 1, connectTimeout: 5000, commandTimeout: 5000 });
    r.on('error', () => {});
    return r;
  }

  /** Runs `fn` with a direct client, closed afterwards. */
  async with<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
    const r = this.client();
    try {
      return await fn(r);
    } finally {
      r.disconnect();
    }
  }

  /**
   * Starts the server behind its proxy. A restart keeps the data folder (nodes.conf and the AOF):
   * the node comes back as itself, at the same announced address (the proxy's). It keeps its
   * server and bus ports too, unless something took one meanwhile: then it takes free ones (only
   * the proxy knows the server's port; the other nodes learn a new bus port from its first
   * messages).
   */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is running already`);
    await this.proxy.start();
    this.proxy.up();
    for (let attempt = 1; ; attempt++) {
      if (this.port === 0 || attempt > 1) {
        this.port = await freePort();
        this.busPort = await freePort();
        this.proxy.targetPort = this.port;
      }
      try {
        await this.spawn();
        return;
      } catch (err) {
        const taken = this.log.some((l) => l.includes('Address already in use'));
        if (!taken || attempt >= 3) throw err;
      }
    }
  }

  private async spawn(): Promise<void> {
    this.log = [];
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction', '--save', '',
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', String(this.nodeTimeoutMs), '--cluster-replica-validity-factor', '0',
      '--cluster-port', String(this.busPort),
      '--cluster-announce-ip', '127.0.0.1', '--cluster-announce-port', String(this.proxy.port), '--cluster-announce-bus-port', String(this.busPort),
      '--replica-announce-ip', '127.0.0.1', '--replica-announce-port', String(this.proxy.port),
      // A full sync starts at once, not 5 s later in case more replicas come (7.0's default).
      '--repl-diskless-sync-delay', '0',
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    child.once('exit', () => live.delete(child));
    // 'close' comes once the output is read to its end: the reason of an early exit is in the log then.
    const closed = new Promise((resolve) => child.once('close', resolve));
    const keep = (chunk: Buffer) => {
      this.log.push(...chunk.toString().split('\n').filter(Boolean));
      if (this.log.length > 40) this.log.splice(0, this.log.length - 40);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const state = await waitFor(`${this.name} (redis-server on ${this.port}) answering`, async () => {
      if (!this.running) return 'exited';
      // Its own process answering, not another test's server that took the port first.
      const info = await this.with((r) => r.info('server'));
      return info.includes(`process_id:${child.pid}\r\n`) && 'up';
    });
    if (state === 'exited') {
      await closed;
      throw new Error(`${this.name}: redis-server exited at start (${child.exitCode ?? child.signalCode}):\n${this.recentLog()}`);
    }
  }

  /** SIGKILL (nothing written at exit); then its proxy drops what it held and resets connections. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    this.proxy.down();
  }

  /** The node's id in the cluster. */
  id(): Promise<string> {
    return this.with(async (r) => String(await r.cluster('MYID')));
  }

  /** ROLE: 'master', or 'slave' with the address of its primary and its link state. */
  async role(): Promise<{ role: string; primaryPort?: number; link?: string }> {
    const reply = (await this.with((r) => r.call('ROLE'))) as unknown[];
    const role = String(reply[0]);
    return role === 'slave' ? { role, primaryPort: Number(reply[2]), link: String(reply[3]) } : { role };
  }

  /** The server's last lines of log. */
  recentLog(): string {
    return this.log.slice(-8).join('\n');
  }

  async stop(): Promise<void> {
    await this.kill();
    await this.proxy.stop();
    rmSync(this.dir, { recursive: true, force: true });
    folders.delete(this.dir);
  }
}

interface ClusterNodeLine {
  id: string;
  port: number;
  flags: string[];
  primaryId: string;
  slots: string[];
}

function parseClusterNodes(text: string): ClusterNodeLine[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, addr, flags, primaryId, , , , , ...slots] = line.split(' ');
      return { id: id!, port: Number(addr!.split('@')[0]!.split(':')[1]), flags: flags!.split(','), primaryId: primaryId!, slots };
    });
}

/**
 * A Redis Cluster of one test's own (3 primaries, a replica each, on free loopback ports) whose
 * replicas can be made to lag for real: every node sits behind a ReplicationProxy that the
 * cluster announces, so the replication stream of every primary goes through this process, which
 * can hold it (`holdReplication`). Killing a primary then drops the held bytes with it, and the
 * replica promoted in its place lacks the writes the primary had acknowledged last.
 *
 * Clients given `addresses` (ioredis Cluster, the fleet's REDIS_CLUSTER_NODES) learn the proxies'
 * addresses from the cluster and go through them too; only replication connections are ever held.
 */
export class LaggingCluster {
  readonly nodes: LaggingNode[];

  constructor(
    options: {
      /** Primaries (each gets one replica); 3 by default, the least a failover vote needs. */
      primaries?: number;
      /** cluster-node-timeout: how long a dead primary takes to be noticed (1 s by default). */
      nodeTimeoutMs?: number;
    } = {},
  ) {
    const primaries = options.primaries ?? 3;
    if (primaries < 3) throw new Error('a failover needs at least 3 primaries to vote');
    this.nodes = Array.from({ length: primaries * 2 }, (_, i) => new LaggingNode(`n${i}`, options.nodeTimeoutMs ?? 1000));
  }

  /** Seed nodes for REDIS_CLUSTER_NODES / ioredis Cluster: the proxies' addresses. */
  get addresses(): string[] {
    return this.nodes.map((n) => n.address);
  }

  /**
   * Starts the nodes and builds the cluster by hand (slots, config epochs, MEET, REPLICATE: what
   * redis-cli --cluster create does, without its fixed sleeps), then waits until it is healthy and
   * every replica streams from its primary through the primary's proxy.
   */
  async start(): Promise<this> {
    try {
      await Promise.all(this.nodes.map((n) => n.start()));
      const primaries = this.nodes.length / 2;
      const ids = await Promise.all(this.nodes.map((n) => n.id()));
      await Promise.all(
        this.nodes.map((n, i) =>
          n.with(async (r) => {
            // Distinct epochs up front, as redis-cli gives them: no epoch collision to resolve.
            await r.cluster('SET-CONFIG-EPOCH', i + 1);
            if (i < primaries) {
              const from = Math.floor((SLOTS * i) / primaries);
              const to = Math.floor((SLOTS * (i + 1)) / primaries) - 1;
              await r.call('CLUSTER', 'ADDSLOTSRANGE', from, to);
            }
          }),
        ),
      );
      await this.nodes[0]!.with(async (r) => {
        for (const n of this.nodes.slice(1)) await r.cluster('MEET', '127.0.0.1', n.proxy.port, n.busPort);
      });
      await waitFor('every node knowing every other', () => this.allKnowEachOther(ids), 30_000);
      await Promise.all(this.nodes.slice(primaries).map((n, i) => n.with((r) => r.cluster('REPLICATE', ids[i]!))));
      await this.waitHealthy('the new cluster');
      return this;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async allKnowEachOther(ids: string[]): Promise<boolean> {
    for (const n of this.nodes) {
      const lines = parseClusterNodes(String(await n.with((r) => r.cluster('NODES'))));
      const known = lines.filter((l) => !l.flags.includes('handshake') && !l.flags.includes('noaddr'));
      if (!ids.every((id) => known.some((l) => l.id === id))) return false;
    }
    return true;
  }

  private byAnnouncedPort(port: number): LaggingNode {
    const n = this.nodes.find((x) => x.proxy.port === port);
    if (!n) throw new Error(`the cluster names 127.0.0.1:${port}, which is not a proxy of this cluster (a node announcing its own port?)`);
    return n;
  }

  private running(): LaggingNode[] {
    return this.nodes.filter((n) => n.running);
  }

  /** The node serving `slot` as primary now. */
  async primaryOf(slot: number): Promise<LaggingNode> {
    const n = this.running()[0];
    if (!n) throw new Error('no node of the cluster is running');
    const slots = (await n.with((r) => r.cluster('SLOTS'))) as unknown as [number, number, [string, number, string]][];
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    return this.byAnnouncedPort(range[2][1]);
  }

  /** The running replicas of `primary`, as its own CLUSTER NODES lists them. */
  async replicasOf(primary: LaggingNode): Promise<LaggingNode[]> {
    const id = await primary.id();
    const lines = parseClusterNodes(String(await primary.with((r) => r.cluster('NODES'))));
    return lines
      .filter((l) => l.primaryId === id && !l.flags.some((f) => f === 'fail' || f === 'fail?'))
      .map((l) => this.byAnnouncedPort(l.port))
      .filter((n) => n.running);
  }

  /**
   * From now on the replicas of `primary` get nothing more from it: its proxy keeps the
   * replication stream (WAIT counts them no more, their offset stops) until releaseReplication
   * or killPrimary. Throws when no replica streams from it through its proxy.
   */
  holdReplication(primary: LaggingNode): void {
    if (primary.proxy.replicationLinks === 0) throw new Error(`no replica of ${primary.name} (${primary.address}) streams through its proxy: nothing to hold`);
    primary.proxy.hold();
  }

  /** Forwards what was held: the replicas catch up. */
  releaseReplication(primary: LaggingNode): void {
    primary.proxy.release();
  }

  /**
   * SIGKILLs `primary`; what its proxy held is dropped with it. Waits until one of its replicas
   * is its successor: ROLE master, serving all its slots in every running node's view, and the
   * cluster state ok on every running node. Resolves to the promoted node.
   */
  async killPrimary(primary: LaggingNode, timeoutMs = 30_000): Promise<LaggingNode> {
    if (!primary.running) throw new Error(`${primary.name} is not running`);
    if ((await primary.role()).role !== 'master') throw new Error(`${primary.name} is not a primary`);
    const replicas = await this.replicasOf(primary);
    if (replicas.length === 0) throw new Error(`${primary.name} has no replica to take over`);
    const ranges = ((await primary.with((r) => r.cluster('SLOTS'))) as unknown as [number, number, [string, number, string]][]).filter(
      ([, , [, port]]) => port === primary.proxy.port,
    );
    await primary.kill();
    return waitFor(
      `a replica of ${primary.name} (${replicas.map((r) => r.name).join(', ')}) promoted in its place, cluster state ok`,
      async () => {
        const promoted = await Promise.all(replicas.map(async (r) => ((await r.role()).role === 'master' ? r : undefined)));
        const successor = promoted.find(Boolean);
        if (!successor) return undefined;
        for (const n of this.running()) {
          if (!(await this.stateOk(n))) return undefined;
          const slots = (await n.with((r) => r.cluster('SLOTS'))) as unknown as [number, number, [string, number, string]][];
          for (const [from, to] of ranges) {
            const now = slots.find(([f, t]) => from >= f && to <= t);
            if (!now || now[2][1] !== successor.proxy.port) return undefined;
          }
        }
        return successor;
      },
      timeoutMs,
    );
  }

  /**
   * Starts a killed node again (same announced address, same data): it rejoins the cluster. Waits until the
   * cluster is healthy again: a former primary whose replica took over is then a replica of it,
   * streaming through the new primary's proxy.
   */
  async restart(node: LaggingNode): Promise<void> {
    await node.start();
    await this.waitHealthy(`${node.name} back in the cluster`);
  }

  private async stateOk(n: LaggingNode): Promise<boolean> {
    return String(await n.with((r) => r.cluster('INFO'))).includes('cluster_state:ok');
  }

  /**
   * Waits until: cluster state ok on every running node, all of them seeing the same primaries
   * of the same slots and the same replicas of them; no running node flagged failing in any
   * running node's view; every replica's link to its primary up, through the primary's proxy
   * (the primary's address as announced), and every primary's proxy carrying as many replication
   * connections as it has replicas.
   */
  async waitHealthy(what = 'the cluster healthy', timeoutMs = 30_000): Promise<void> {
    await waitFor(
      what,
      async () => {
        const running = this.running();
        const ids = new Map(await Promise.all(running.map(async (n) => [await n.id(), n] as const)));
        const replicasPer = new Map<LaggingNode, number>();
        let firstView: string | undefined;
        for (const n of running) {
          if (!(await this.stateOk(n))) throw new Error(`${n.name}: cluster state not ok`);
          const lines = parseClusterNodes(String(await n.with((r) => r.cluster('NODES')))).filter((l) => ids.has(l.id));
          for (const l of lines) {
            if (l.flags.some((f) => f === 'fail' || f === 'fail?' || f === 'handshake')) throw new Error(`${n.name} flags ${ids.get(l.id)!.name} ${l.flags.join(',')}`);
          }
          // Who serves which slots and who follows whom, among the running nodes.
          const view = lines
            .map((l) => `${ids.get(l.id)!.name}:${l.flags.includes('master') ? `primary ${l.slots.join(',')}` : `replica of ${l.primaryId}`}`)
            .sort()
            .join(' ');
          if (firstView !== undefined && view !== firstView) throw new Error(`${n.name} sees ${view}, ${running[0]!.name} sees ${firstView}`);
          firstView = view;
          const role = await n.role();
          if (role.role === 'slave') {
            const primary = this.byAnnouncedPort(role.primaryPort!);
            if (role.link !== 'connected') throw new Error(`${n.name}: link to ${primary.name} ${role.link}`);
            replicasPer.set(primary, (replicasPer.get(primary) ?? 0) + 1);
          }
        }
        for (const [primary, count] of replicasPer) {
          if (primary.proxy.replicationLinks < count) throw new Error(`${primary.name}: ${primary.proxy.replicationLinks} replication connections through its proxy for ${count} replicas`);
        }
        return true;
      },
      timeoutMs,
    );
  }

  /** Kills every server, closes every proxy, removes every data folder. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
