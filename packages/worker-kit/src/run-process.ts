import type { Pool } from '@im/db';
import { poolStats } from '@im/db';
import { closeRedis, type Redis } from '@im/redis';
import { watchDeployment } from './deployment';
import { dependencyChecks, ProcessHealth } from './health';
import { closeServer, startOpsServer } from './ops-server';
import { boot, every, recordPool, type Boot, type Role } from './process';
import { installShutdown, type ShutdownStep } from './shutdown';

/** What a role's build gets: the process's config, logger and metrics, its health, and a way to stop itself. */
export interface ProcessContext extends Boot {
  health: ProcessHealth;
  /** The ordered shutdown, as on SIGTERM (a role that must stop, such as on a stale layout). */
  shutdown: () => Promise<void>;
}

/** What a role builds: its connections, how it starts serving, and how it stops. */
export interface ProcessParts {
  /** The process's Redis and MySQL: the dependency checks, the pool gauge and the deployment watch use them; closed last. */
  redis: Redis;
  pool: Pool;
  /** The deployment generation this process runs (joinDeployment): when it moves on, the process stops, to start again on the new layout. */
  generation: number;
  /** Starts taking traffic (ingest-api: its listeners); the process is ready once it resolves. Workers consume from their build on. */
  serve?: () => Promise<void>;
  /** After readiness is withdrawn, in order: stop taking work, finish or hand back what is held, flush, close what the role opened. */
  stop: readonly ShutdownStep[];
  /** Fields of the "started" log line. */
  started?: Record<string, unknown>;
}

export interface RunProcessOptions {
  /**
   * Whether /health, /ready, /health/dependencies and /metrics get a port of their own
   * (the role's ops port): always for workers; for ingest-api when metrics.port is set, so that its
   * Service does not expose /metrics.
   */
  opsServer: (b: Boot) => boolean;
}

/**
 * Every process, ingest-api and the workers alike: boot (config, logger, metrics), the ops server
 * (listening before anything else, so /health answers while the role starts), the role's build,
 * then serving and ready; the pool and dependency gauges and the deployment watch; and on SIGTERM
 * one shutdown order: readiness withdrawn, background loops stopped, the role's own steps, the ops
 * server, MySQL, Redis. What differs per role is its parts.
 */
export async function runProcess(role: Role, build: (ctx: ProcessContext) => Promise<ProcessParts>, options: RunProcessOptions): Promise<void> {
  const b = boot(role);
  const { config, log, metrics, opsPort } = b;
  const health = new ProcessHealth();
  const ops = options.opsServer(b) ? await startOpsServer({ host: config.message_service.host, port: opsPort, registry: metrics.registry, health }) : undefined;

  let shutdown: () => Promise<void> = async () => {};
  const parts = await build({ ...b, health, shutdown: () => shutdown() });
  health.dependOn(dependencyChecks(parts.redis, parts.pool));

  const stopSampling = every(
    5000,
    async () => {
      recordPool(metrics, poolStats(parts.pool));
      const { body } = await health.dependencies();
      for (const [name, state] of Object.entries(body.dependencies)) metrics.dependencyUp.set({ dependency: name }, state === 'up' ? 1 : 0);
    },
    (err) => log.debug({ err }, 'sampling failed'),
  );
  // A reshard that finished stops this process (ordered shutdown, exit 0), which then starts
  // again on the new layout (its supervisor restarts it: npm start, Kubernetes, compose).
  const stopWatching = watchDeployment(
    parts.redis,
    config.queue.prefix,
    parts.generation,
    (record) => {
      log.warn({ generation: parts.generation, now: record.generation, shards: record.shards }, 'the deployment was resharded: this process stops, to start again on the new layout');
      void shutdown();
    },
    log,
  );

  shutdown = installShutdown(log, () => [
    ['withdraw readiness', async () => health.draining()],
    ['stop background loops', async () => (stopSampling(), stopWatching())],
    ...parts.stop,
    ...(ops ? [['close ops server', () => closeServer(ops)] as const] : []),
    ['close mysql', () => parts.pool.end()],
    ['close redis', () => closeRedis(parts.redis)],
    ['flush traces', () => b.telemetry.shutdown()],
  ]);

  await parts.serve?.();
  health.serving();
  log.info({ opsPort: ops ? opsPort : undefined, generation: parts.generation, ...parts.started }, `${role} started`);
}
