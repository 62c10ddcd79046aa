import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { defaultJobOptions, type JobPayloads, type QueueName } from '@im/contracts';
import type { Config } from '@im/config';
import type { Logger } from '@im/logger';

/** A queue whose `add` only takes its own payload type: queueing the wrong data is a compile error. */
export type TypedQueue<Q extends QueueName> = Queue<JobPayloads[Q], void, string>;

/**
 * A queue of the pipeline with its job options. Its connection errors go to the log (the first of
 * each 10 s): unheard, BullMQ would print them on stderr with the failed command's arguments.
 */
export function createQueue<Q extends QueueName>(name: Q, connection: Redis, config: Config, log: Logger): TypedQueue<Q> {
  const queue = new Queue<JobPayloads[Q], void, string>(name, {
    connection,
    prefix: config.queue.prefix,
    defaultJobOptions: defaultJobOptions(config.queue.backoff_ms),
    streams: { events: { maxLen: 1000 } },
  });
  let lastReport = 0;
  queue.on('error', (err) => {
    const now = Date.now();
    if (now - lastReport < 10_000) return;
    lastReport = now;
    log.warn({ err, queue: name }, 'queue connection error');
  });
  return queue;
}

export const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

export type JobCounts = Record<(typeof JOB_STATES)[number], number> & {
  /** Work not yet done: waiting, active and delayed (a pipeline job is delayed only while it waits to retry). */
  backlog: number;
};

export async function jobCounts(queue: Queue): Promise<JobCounts> {
  const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children');
  const counts = {
    waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0),
    active: c.active ?? 0,
    delayed: c.delayed ?? 0,
    failed: c.failed ?? 0,
  };
  return { ...counts, backlog: counts.waiting + counts.active + counts.delayed };
}
