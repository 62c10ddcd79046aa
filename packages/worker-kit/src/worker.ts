import { MetricsTime, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError, isUnavailableError } from '@im/errors';
import { describeIssues, jobSchemas, type JobPayloads, type QueueName } from '@im/contracts';
import type { Config } from '@im/config';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';

export interface JobContext<D> {
  deps: D;
  log: Logger;
  /** 1 on the first try. */
  attempt: number;
  maxAttempts: number;
  job: Job;
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
}

/**
 * The one wrapper around every handler: validates the payload (an invalid job is refused without
 * retry), logs and times each job, counts errors, and maps our errors to retry or no-retry.
 * A crashed worker's jobs come back after the stall check (lock 10 s, checked every 5 s).
 */
export function startWorker<Q extends QueueName, D>(o: StartWorkerOptions<Q, D>): Worker {
  const schema = jobSchemas[o.queue];
  const timer = o.metrics.jobDuration.labels({ queue: o.queue });
  const worker = new Worker(
    o.queue,
    async (job: Job) => {
      const parsed = schema.safeParse(job.data);
      if (!parsed.success) {
        o.metrics.errors.inc({ component: o.queue, kind: 'invalid_job' });
        throw new UnrecoverableError(`invalid ${o.queue} job: ${describeIssues(parsed.error)}`);
      }
      const log = o.log.child({ queue: o.queue, jobId: job.id, attempt: job.attemptsMade + 1 });
      const end = timer.startTimer();
      try {
        await o.handler(parsed.data as JobPayloads[Q], {
          deps: o.deps,
          log,
          attempt: job.attemptsMade + 1,
          maxAttempts: job.opts.attempts ?? 1,
          job,
        });
      } catch (err) {
        const kind = err instanceof AppError ? err.code : isUnavailableError(err) ? 'UNAVAILABLE' : 'INTERNAL';
        o.metrics.errors.inc({ component: o.queue, kind });
        log.warn({ err, kind }, 'job attempt failed');
        if (err instanceof AppError && !err.retryable) throw new UnrecoverableError(err.message);
        throw err;
      } finally {
        end();
      }
    },
    {
      connection: o.connection,
      prefix: o.config.queue.prefix,
      concurrency: o.concurrency ?? o.config.queue.concurrency,
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 5,
      // Completed and failed counts per minute in Redis (a week of them): `im-message status` rates.
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      autorun: true,
    },
  );
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
    if (final) {
      o.metrics.errors.inc({ component: o.queue, kind: 'job_failed' });
      o.log.error({ queue: o.queue, jobId: job.id, attempts: job.attemptsMade, err }, 'job failed for good; kept in the failed set for retry');
    }
  });
  worker.on('error', (err) => {
    o.metrics.errors.inc({ component: o.queue, kind: 'worker' });
    o.log.error({ err, queue: o.queue }, 'worker error');
  });
  return worker;
}

/** Closes a worker, waiting for its active jobs up to timeoutMs; past that the jobs are handed back (they stall and are retried). */
export async function closeWorker(worker: Worker, timeoutMs: number): Promise<void> {
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
