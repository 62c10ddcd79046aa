import { createPool, type Pool } from '@im/db';
import { createRedis, waitForReady, type Redis, type Shard, type Topology } from '@im/redis';
import { joinDeployment } from './deployment';
import type { Boot, Role } from './process';
import { runProcess } from './run-process';
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
 * A worker process: runProcess with the worker's parts. One Redis connection (waited for, as long
 * as it takes) and one MySQL pool, the deployment's layout, the consumers the main builds, its ops
 * server on the role's port; on SIGTERM, after readiness is withdrawn: its loops, consumers,
 * flushes and queues, then what every process closes.
 */
export async function runWorker(role: Role, build: (ctx: WorkerContext) => WorkerParts | Promise<WorkerParts>, options: RunWorkerOptions = {}): Promise<void> {
  await runProcess(
    role,
    async (ctx) => {
      const { config, log } = ctx;
      const redis = createRedis(config.queue, 'worker', `im-${role}`, (err) => log.warn({ err: err.message }, 'redis connection error'));
      const pool = createPool({ url: config.mysql.url, size: options.poolSize?.(ctx) ?? config.mysql.pool_size });
      await waitForReady(redis, 60_000).catch((err) => log.warn({ err }, 'redis not ready yet; the worker will wait for it'));
      // The layout is the deployment's (its record in Redis), not this process's queue.shards.
      const deployment = await joinDeployment(redis, config, log);
      const topology = deployment.topology;
      const shards = topology.consumed(config.queue.consume_shards);
      const parts = await build({ ...ctx, redis, pool, topology, shards });
      return {
        redis,
        pool,
        generation: deployment.record.generation,
        stop: [
          ['stop worker loops', async () => (parts.loops ?? []).forEach((stop) => stop())],
          ['close workers', () => Promise.all(parts.workers.map((w) => w.close(options.closeTimeoutMs ?? 20_000)))],
          ['flush batches', () => Promise.all((parts.flush ?? []).map((drain) => drain()))],
          ['close queues', () => Promise.all((parts.queues ?? []).map((q) => q.close()))],
        ],
        started: { shards: shards.map((s) => s.index), ...parts.started },
      };
    },
    { opsServer: () => true },
  );
}
