import type { Queue } from 'bullmq';
import type { Metrics } from '@im/metrics';
import { every } from './process';
import { JOB_STATES, jobCounts } from './queues';

/**
 * im_queue_jobs{queue,state} for the given queues, every intervalMs whatever the scrape rate.
 * Several processes sample (ingest-api and worker-cleaner), so the gauges do not depend on one of
 * them being up; dashboards and alerts take max by (queue).
 */
export function sampleQueues(queues: readonly { label: string; queue: Queue }[], metrics: Metrics, onError: (err: unknown) => void, intervalMs = 5000): () => void {
  return every(
    intervalMs,
    async () => {
      for (const q of queues) {
        const counts = await jobCounts(q.queue);
        for (const state of JOB_STATES) metrics.queueJobs.set({ queue: q.label, state }, counts[state]);
      }
    },
    onError,
  );
}
