import type { Config } from '@im/config';
import { JOB_NAMES, type AcceptedMessage, type PersistJob, type TraceCarriers } from '@im/contracts';
import { AppError, toAppError } from '@im/errors';
import { waitForReplicas, type Redis, type Shard } from '@im/redis';
import type { TypedQueue } from '@im/worker-kit';

/**
 * What adding a persist job came to:
 * - queued: the job is in Redis (on min_replicas replicas too, or a worker already holds it);
 * - refused: it is not, and never will be (taken back, or never added): nothing was accepted;
 * - absent: the add failed and the job is not in the queue: never added, or already done (the
 *   caller looks for its messages in history);
 * - unknown: Redis did not answer in time, neither for the add nor for the question whether the
 *   job exists.
 */
export type EnqueueOutcome = { status: 'queued' } | { status: 'refused' | 'absent' | 'unknown'; error: AppError };

/**
 * Adds an admitted batch to its shard's persist queue as one job. With queue.min_replicas, the add
 * counts only once that many Redis replicas hold it (WAIT, on `redis`, the queues' connection). An
 * add that failed, or was not replicated in time, is taken back if no worker holds it yet (BullMQ
 * removes a job only while no worker holds it); what could not be taken back is found out, so the
 * answer says what happened. Each command is bounded by the connection's command timeout, and
 * WAIT by queue.replica_timeout_ms.
 */
export function persistEnqueuer(o: { queues: readonly TypedQueue<'im.persist'>[]; redis: Redis; config: Config }) {
  const { min_replicas: minReplicas, replica_timeout_ms: timeoutMs } = o.config.queue;
  async function settle(queue: TypedQueue<'im.persist'>, jobId: string, error: AppError): Promise<EnqueueOutcome> {
    try {
      // Sent together: one command time. The look-up after a removal that failed tells a job a
      // worker holds (queued) from one that is not there.
      const [removed, job] = await Promise.all([queue.remove(jobId), queue.getJob(jobId)]);
      if (removed === 1) return { status: 'refused', error };
      return job ? { status: 'queued' } : { status: 'absent', error };
    } catch {
      return { status: 'unknown', error };
    }
  }
  return async (shard: Shard, jobId: string, batch: AcceptedMessage[], ticket?: number, trace?: TraceCarriers): Promise<EnqueueOutcome> => {
    const queue = o.queues[shard.index]!;
    const data: PersistJob = { messages: batch };
    if (ticket !== undefined) data.ticket = ticket;
    if (trace) data.trace = trace;
    try {
      await queue.add(JOB_NAMES['im.persist'], data, { jobId });
    } catch (err) {
      return settle(queue, jobId, toAppError(err));
    }
    if (minReplicas === 0) return { status: 'queued' };
    // The shard's admission state lives in the same slot as its queue: the replicas that hold the
    // job hold the seq counters and dedupe records written before it.
    let held = 0;
    try {
      held = await waitForReplicas(o.redis, shard.queueKey('im.persist', 'meta'), minReplicas, timeoutMs);
    } catch (err) {
      return settle(queue, jobId, toAppError(err));
    }
    if (held >= minReplicas) return { status: 'queued' };
    return settle(queue, jobId, new AppError('UNAVAILABLE', `the send reached ${held} of queue.min_replicas (${minReplicas}) Redis replicas within ${timeoutMs} ms; nothing was accepted, retry`, { reason: 'REPLICATION_TIMEOUT' }));
  };
}

/** Takes a persist job back if no worker holds it: 'removed' (nothing of it will be persisted), 'kept' (held or gone). */
export function persistTakeBack(queues: readonly TypedQueue<'im.persist'>[]) {
  return async (shard: Shard, jobId: string): Promise<'removed' | 'kept'> => ((await queues[shard.index]!.remove(jobId)) === 1 ? 'removed' : 'kept');
}
