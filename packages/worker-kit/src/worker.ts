import { MetricsTime, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { CAPPED_BACKOFF, describeIssues, jobSchemas, type JobPayloads, type QueueName } from '@im/contracts';
import type { Config } from '@im/config';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import type { Shard } from '@im/redis';
import { consumeHop, withContext, type MessageTraces } from '@im/telemetry';
import { judgeFailure } from './failure-policy';
import { ORDERED_STAGES } from './queues';

export interface JobContext<D> {
  deps: D;
  log: Logger;
  /** 1 on the first try. */
  attempt: number;
  job: Job;
  /** With tracing on: each traced message's span in this stage (the parent of what the handler adds for it). */
  trace?: MessageTraces;
}

/** A handler is a plain async function of (payload, context). */
export type Handler<Q extends QueueName, D> = (payload: JobPayloads[Q], ctx: JobContext<D>) => Promise<void>;

export interface StartWorkerOptions<Q extends QueueName, D> {
  queue: Q;
  handler: Handler<Q, D>;
  deps: D;
  connection: Redis;
  config: Config;
  log: Logger;
  metrics: Metrics;
  concurrency?: number;
  /** The shard of the stage this worker consumes (the topology's; the cleaner's queue is on shard 0). */
  shard: Shard;
}

/** Exponential from `base`, capped at `cap`, with up to 20 % jitter so retries of many jobs spread out. */
export function cappedBackoff(attemptsMade: number, base: number, cap: number, random = Math.random): number {
  const exp = base * 2 ** Math.min(Math.max(attemptsMade - 1, 0), 30);
  const delay = Math.min(exp, cap);
  return Math.round(delay * (0.8 + 0.2 * random()));
}

/**
 * The delay before a job's next attempt: the backoff, or longer when the error says how long the
 * other side asked to be left alone (an HTTP Retry-After, carried as AppError's retryAfterS).
 */
export function retryDelay(backoffMs: number, err?: Error): number {
  const s = (err as { retryAfterS?: unknown } | undefined)?.retryAfterS;
  return typeof s === 'number' && Number.isFinite(s) && s > 0 ? Math.max(backoffMs, Math.round(s * 1000)) : backoffMs;
}

/** A consumer of a stage's queue, as a process holds it: closing waits for the jobs in hand. */
export interface StageWorker {
  /** Stops taking jobs and waits up to timeoutMs for those in hand; past that they are handed back (they stall and are retried). */
  close(timeoutMs: number): Promise<void>;
}

/**
 * The one wrapper around every handler: validates the payload (an invalid job is refused without
 * retry), logs and times each job, counts errors, and follows the one failure policy
 * (failure-policy.ts): an error about the job sends it to the failed set, anything else retries
 * with a backoff capped at queue.max_backoff_ms, without end.
 * A crashed worker's jobs come back after the stall check (lock 10 s, checked every 5 s).
 */
export function startWorker<Q extends QueueName, D>(o: StartWorkerOptions<Q, D>): StageWorker {
  const schema = jobSchemas[o.queue];
  const label = o.shard.label(o.queue);
  const prefix = o.shard.queuePrefix;
  const timer = o.metrics.jobDuration.labels({ queue: label });
  const { backoff_ms: base, max_backoff_ms: cap } = o.config.queue;
  if (ORDERED_STAGES.includes(o.queue)) void applyOrdering(o.connection, prefix, o.queue, o.config.queue.ordered).catch((err) => o.log.warn({ err, queue: label }, 'could not set the queue ordering; retried at the next start'));
  const worker = new Worker(
    o.queue,
    async (job: Job) => {
      const parsed = schema.safeParse(job.data);
      if (!parsed.success) {
        o.metrics.errors.inc({ component: label, kind: 'invalid_job' });
        throw new UnrecoverableError(`invalid ${o.queue} job: ${describeIssues(parsed.error)}`);
      }
      const log = o.log.child({ queue: label, jobId: job.id, attempt: job.attemptsMade + 1 });
      const end = timer.startTimer();
      const hop = consumeHop(label, [job], false);
      let failure: unknown;
      try {
        await withContext(hop.round, () => o.handler(parsed.data as JobPayloads[Q], { deps: o.deps, log, attempt: job.attemptsMade + 1, job, trace: hop }));
      } catch (err) {
        failure = err;
        const verdict = judgeFailure(err);
        o.metrics.errors.inc({ component: label, kind: verdict.kind });
        log.warn({ err, kind: verdict.kind }, verdict.failed ? 'job attempt failed: the job itself is at fault' : verdict.outage ? 'job attempt failed: a backing service is unavailable; retrying until it is back' : 'job attempt failed; retrying');
        throw verdict.error;
      } finally {
        hop.end(failure);
        end();
      }
    },
    {
      connection: o.connection,
      prefix,
      concurrency: o.concurrency ?? o.config.queue.concurrency,
      lockDuration: 10_000,
      stalledInterval: 5_000,
      // Each Redis outage or crash of a worker may stall a job once: many may pass in a job's life.
      maxStalledCount: 20,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string, err?: Error) => retryDelay(type === CAPPED_BACKOFF ? cappedBackoff(attemptsMade, base, cap) : base, err),
      },
      // Completed and failed counts per minute in Redis (a week of them): `im-message status` rates.
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      autorun: true,
    },
  );
  worker.on('failed', (job, err) => {
    if (!job) return;
    if (err instanceof UnrecoverableError || err.name === 'UnrecoverableError') {
      o.metrics.errors.inc({ component: label, kind: 'job_failed' });
      o.log.error({ queue: label, jobId: job.id, attempts: job.attemptsMade, err }, 'job failed for good; kept in the failed set (im-message failed / retry)');
    }
  });
  worker.on('error', (err) => {
    o.metrics.errors.inc({ component: label, kind: 'worker' });
    o.log.error({ err, queue: label }, 'worker error');
  });
  return { close: (timeoutMs) => closeWorker(worker, timeoutMs) };
}

/**
 * queue.ordered: a shard's queue runs one job at a time across the fleet (BullMQ's global
 * concurrency), so its jobs finish in the order they were added and a conversation's messages are
 * handed on and published in seq order. Off: as many at once as the workers' concurrency allows.
 */
export async function applyOrdering(connection: Redis, prefix: string, name: QueueName, ordered: boolean): Promise<void> {
  const queue = new Queue(name, { connection, prefix });
  try {
    if (ordered) await queue.setGlobalConcurrency(1);
    else await queue.removeGlobalConcurrency();
  } finally {
    await queue.close();
  }
}

/** Closes a worker, waiting for its active jobs up to timeoutMs; past that the jobs are handed back (they stall and are retried). */
async function closeWorker(worker: Worker, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const graceful = worker.close();
  const timedOut = await Promise.race([
    graceful.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) await worker.close(true);
}
