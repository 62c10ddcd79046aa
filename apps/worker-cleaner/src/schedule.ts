import { JOB_NAMES } from '@im/contracts';
import type { TypedQueue } from '@im/worker-kit';

/**
 * One sweep at a time in the whole fleet, however many cleaners run: the scheduler makes one job
 * per interval and the queue's global concurrency lets one of them be active. A sweep that fails
 * three times waits for the next interval; the queue keeps its last 100 failures, and its last 50
 * finished sweeps with their final progress, for the queue dashboard.
 */
export async function scheduleSweeps(queue: TypedQueue<'im.cleaner'>, intervalS: number): Promise<void> {
  await queue.setGlobalConcurrency(1);
  await queue.upsertJobScheduler(
    'sweep',
    { every: intervalS * 1000 },
    { name: JOB_NAMES['im.cleaner'], data: { task: 'sweep' }, opts: { attempts: 3, removeOnFail: { count: 100 }, removeOnComplete: { count: 50 } } },
  );
}
