import { createPool, poolStats, type Pool } from '@im/db';
import { closeRedis, createRedis, waitForReady, type Redis, type Shard, type Topology } from '@im/redis';
import { joinDeployment, watchDeployment } from './deployment';
import { backingServiceChecks, closeServer, startOpsServer } from './ops-server';
import { boot, every, recordPool, type Boot, type Role } from './process';
import { installShutdown } from './shutdown';
import type { StageWorker } from './worker';

/** What a worker's main gets: the process's config, logger and metrics, and its connections. */
export interface WorkerContext extends Boot {
  redis: Redis;
  pool: Pool;
  /** The deployment's layout in Redis: shards, queue prefixes, per-shard keys. */
  topology: Topology;
  /** The shards this process consumes (queue.consume_shards, or every shard). */
  shards: Shard[];
}

/** What a worker's main builds: its consumers and what must be stopped, flushed and closed after them. */
export interface WorkerParts {
  /** Consumers; closed first, each finishing the jobs in hand (up to `closeTimeoutMs`). */
  workers: readonly StageWorker[];
  /** Background loops (`every`) to stop before the consumers close. */
  loops?: readonly (() => void)[];
  /** Batches to flush once the consumers are closed (MicroBatcher.drain). */
  flush?: readonly (() => Promise<void>)[];
  /** Queues this process adds to; closed after the flush. */
  queues?: readonly { close(): Promise<void> }[];
  /** Fields of the "started" log line. */
  started?: Record<string, unknown>;
}

export interface RunWorkerOptions {
  /** MySQL connections of this process (default mysql.pool_size). */
  poolSize?: (ctx: Boot) => number;
  /** How long closing the consumers may wait for their jobs (default 20 s; the shutdown budget is 28 s). */
  closeTimeoutMs?: number;
}

/**
 * Every worker process, around what its main builds: boot (config, logger, metrics), one Redis
 * connection and one MySQL pool, the ops server (/health, /ready on both, /metrics), a wait for
 * Redis, the pool gauge, and on SIGTERM the ordered shutdown: loops, consumers, flushes, queues,
 * ops server, MySQL, Redis.
 */
export async function runWorker(role: Role, build: (ctx: WorkerContext) => WorkerParts | Promise<WorkerParts>, options: RunWorkerOptions = {}): Promise<void> {
  const b = boot(role);
  const { config, log, metrics, opsPort } = b;
  const redis = createRedis(config.queue, 'worker', `im-${role}`, (err) => log.warn({ err: err.message }, 'redis connection error'));
  const pool = createPool({ url: config.mysql.url, size: options.poolSize?.(b) ?? config.mysql.pool_size });
  const ops = await startOpsServer({ host: config.message_service.host, port: opsPort, registry: metrics.registry, checks: backingServiceChecks(redis, pool) });
  await waitForReady(redis, 60_000).catch((err) => log.warn({ err }, 'redis not ready yet; the worker will wait for it'));

  // The layout is the deployment's (its record in Redis), not this process's queue.shards.
  const deployment = await joinDeployment(redis, config, log);
  const topo = deployment.topology;
  const shards = topo.consumed(config.queue.consume_shards);
  const parts = await build({ ...b, redis, pool, topology: topo, shards });
  const stopPoolGauge = every(5000, async () => recordPool(metrics, poolStats(pool)), (err) => log.debug({ err }, 'sampling failed'));
  log.info({ opsPort, shards: shards.map((s) => s.index), generation: deployment.record.generation, ...parts.started }, `${role} started`);

  // A reshard that finished stops this process (ordered shutdown, exit 0), which then starts
  // again on the new layout (its supervisor restarts it: npm start, Kubernetes, compose).
  let shutdown: () => Promise<void> = async () => {};
  const stopWatching = watchDeployment(
    redis,
    config.queue.prefix,
    deployment.record.generation,
    (record) => {
      log.warn({ generation: deployment.record.generation, now: record.generation, shards: record.shards }, 'the deployment was resharded: this process stops, to start again on the new layout');
      void shutdown();
    },
    log,
  );

  shutdown = installShutdown(log, () => [
    ['stop background loops', async () => [stopPoolGauge, stopWatching, ...(parts.loops ?? [])].forEach((stop) => stop())],
    ['close workers', () => Promise.all(parts.workers.map((w) => w.close(options.closeTimeoutMs ?? 20_000)))],
    ['flush batches', () => Promise.all((parts.flush ?? []).map((drain) => drain()))],
    ['close queues', () => Promise.all((parts.queues ?? []).map((q) => q.close()))],
    ['close ops server', () => closeServer(ops)],
    ['close mysql', () => pool.end()],
    ['close redis', () => closeRedis(redis)],
  ]);
}
