import type { StoredMessage } from '@im/contracts';
import type { Metrics } from '@im/metrics';
import type { Handler, TypedQueue } from '@im/worker-kit';

export interface PersistDeps {
  /** Writes messages to message_history (shared multi-row INSERT across concurrent jobs). */
  store(messages: readonly StoredMessage[]): Promise<void>;
  deliverQueue: TypedQueue<'im.deliver'>;
  fanoutQueue: TypedQueue<'im.fanout'>;
  metrics: Metrics;
}

/**
 * Persists a batch of accepted messages, then hands them on: single-chat messages to delivery
 * as one job, group messages to fan-out. Idempotent: a retry re-inserts nothing (INSERT IGNORE)
 * and the follow-up jobs carry ids derived from this job's id.
 */
export const handlePersist: Handler<'im.persist', PersistDeps> = async ({ messages }, { deps, job, log }) => {
  await deps.store(messages);

  const singles = messages.filter((m) => m.group_id === null);
  const groups = messages.filter((m) => m.group_id !== null);
  if (singles.length > 0) {
    await deps.deliverQueue.add(
      'deliver',
      { items: singles.map((m) => ({ message: m, receivers: [m.receiver_id!] })) },
      { jobId: `p${job.id}` },
    );
  }
  if (groups.length > 0) {
    await deps.fanoutQueue.addBulk(groups.map((m) => ({ name: 'fanout', data: { message: m }, opts: { jobId: `g${m.message_id}` } })));
  }
  log.debug({ messages: messages.length, singles: singles.length, groups: groups.length }, 'persisted');
};
