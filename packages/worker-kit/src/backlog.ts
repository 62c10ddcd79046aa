import type { Queue } from 'bullmq';
import type { Logger } from '@im/logger';
import { every } from './process';
import { jobCounts, type JobCounts } from './queues';

export interface BacklogOptions {
  queues: readonly Queue[];
  /** Which jobs count (for example waiting only, or waiting + active + delayed). */
  count(c: JobCounts): number;
  /** The flag is up while the count is at least this; 0 or less: never (and nothing is sampled). */
  bound: number;
  intervalMs?: number;
  log: Logger;
  /** Logged with the counts when the flag changes. */
  message: string;
}

export interface Backlog {
  /** Whether the queues' count was at the bound when last sampled. */
  atBound(): boolean;
  stop(): void;
}

/**
 * A flag sampled from queue counts (once a second by default), read synchronously on hot paths:
 * ingest refuses sends while the persist queues are at `queue.max_persist_backlog`; delivery routes
 * straight to offline while its queues hold more than `queue.queue_size` waiting jobs.
 */
export function backlogSampler(o: BacklogOptions): Backlog {
  let up = false;
  const stop =
    o.bound > 0
      ? every(
          o.intervalMs ?? 1000,
          async () => {
            const n = (await Promise.all(o.queues.map(jobCounts))).reduce((sum, c) => sum + o.count(c), 0);
            const was = up;
            up = n >= o.bound;
            if (was !== up) o.log.warn({ count: n, bound: o.bound, atBound: up }, o.message);
          },
          (err) => o.log.debug({ err }, 'backlog sampling failed'),
        )
      : () => {};
  return { atBound: () => up, stop };
}
