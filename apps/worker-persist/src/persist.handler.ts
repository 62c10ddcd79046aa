import { conversationOf, JOB_NAMES, jobIds, type AcceptedMessage, type AcceptedSingle } from '@im/contracts';
import type { SentMessage } from '@im/redis';
import type { Metrics } from '@im/metrics';
import { produceHop, type MessageSpans } from '@im/telemetry';
import type { BatchHandler, HandOff, TypedQueue } from '@im/worker-kit';
import type { ToStore } from './message-store';

export interface PersistDeps {
  /**
   * Writes messages to message_history (multi-row INSERTs) and records their conversations;
  /**
   * Writes messages to message_history (multi-row INSERTs) and records their conversations;
   * resolves to the messages as stored, in order: a seq another message held is replaced, and a
   * redone message that was recalled is null (not written, not to hand on).
   */
  store(messages: readonly ToStore[]): Promise<(AcceptedMessage | null)[]>;
  /**
   * Claims the messages' client_msg_ids again in their dedupe records (@im/redis reclaimDedupe):
   * resolves to the ids of messages a repeat of their send superseded after a Redis failover.
   */
  reclaim(messages: readonly SentMessage[]): Promise<Set<string>>;
  deliverQueue: TypedQueue<'im.deliver'>;
  fanoutQueue: TypedQueue<'im.fanout'>;
  /** Runs the adds, and with queue.min_replicas until they are replicated (worker-kit hand-off.ts). */
  handOff: HandOff;
  /** hooks.after_send_url: the after_send events of stored messages go here (worker-push sends them). */
  hookQueue?: Pick<TypedQueue<'im.hook'>, 'addBulk'>;
  metrics: Metrics;
}

/**
 * Persists the accepted messages of every persist job of a round, then hands them on in queue
 * order: one delivery job per persist job for its single-chat messages, one fan-out job per group
 * message, all added in one call each. Idempotent: a retry re-inserts nothing (INSERT IGNORE) and
 * the follow-up jobs carry ids derived from their persist job's id or their message id, so a round
 * retried with other jobs around it adds no job twice. A job that ran before (a retry, or back
 * after a stall) neither writes nor hands on a message recalled meanwhile: a recall is final.
 */
/** A single chat's receivers: the receiver, and the sender, whose other devices get the message too. */
const withSender = (m: AcceptedSingle) => (m.receiver_id === m.sender_id ? [m.receiver_id] : [m.receiver_id, m.sender_id]);

export const handlePersist: BatchHandler<'im.persist', PersistDeps> = async (items, { deps, log, trace }) => {
  const all = items.flatMap((i) => i.payload.messages.map((message) => ({ message, redone: i.redone, job_id: i.job.id! })));
  const superseded = await deps.reclaim(all.map(({ message: m, job_id }) => ({ ...m, job_id, conversation: conversationOf(m) })));
  if (superseded.size > 0) {
    deps.metrics.errors.inc({ component: 'im.persist', kind: 'superseded' }, superseded.size);
    log.warn({ messageIds: [...superseded] }, 'messages whose send was repeated and accepted anew after a Redis failover: the repeat is stored, these are not');
  }
  const kept = await deps.store(all.filter((x) => !superseded.has(x.message.message_id)));
  let k = 0;
  const stored = all.map((x) => (superseded.has(x.message.message_id) ? null : (kept[k++] ?? null)));
  let recalled = 0;

  const deliveries: Parameters<PersistDeps['deliverQueue']['addBulk']>[0][number][] = [];
  const fanouts: Parameters<PersistDeps['fanoutQueue']['addBulk']>[0][number][] = [];
  // With tracing on: each message's producer span, the child of its span in this stage.
  const hops: MessageSpans[] = [];
  const events: Parameters<NonNullable<PersistDeps['hookQueue']>['addBulk']>[0][number][] = [];
  let at = 0;
  for (const { payload, job } of items) {
    const messages = stored.slice(at, (at += payload.messages.length)).filter((m): m is AcceptedMessage => m !== null);
    recalled += payload.messages.filter((m) => !superseded.has(m.message_id)).length - messages.length;
    const singles = messages.filter((m): m is AcceptedSingle => m.group_id === null);
    if (singles.length > 0) {
      const hop = produceHop(deps.deliverQueue.name, singles.map((m) => m.message_id), trace?.of);
      hops.push(hop);
      deliveries.push({
        name: JOB_NAMES['im.deliver'],
        data: { items: singles.map((m) => ({ message: m, receivers: withSender(m) })), ...(hop.carriers ? { trace: hop.carriers } : {}) },
        opts: { jobId: jobIds.deliverOfPersist(job.id!) },
      });
    }
    for (const m of messages) {
      if (m.group_id === null) continue;
      const hop = produceHop(deps.fanoutQueue.name, [m.message_id], trace?.of);
      hops.push(hop);
      fanouts.push({ name: JOB_NAMES['im.fanout'], data: { message: m, ...(hop.carriers ? { trace: hop.carriers } : {}) }, opts: { jobId: jobIds.fanout(m.message_id) } });
    }
    if (deps.hookQueue && messages.length > 0) events.push({ name: JOB_NAMES['im.hook'], data: { event: 'after_send', messages }, opts: { jobId: jobIds.afterSend(job.id!) } });
  }
  if (deliveries.length > 0 || fanouts.length > 0 || events.length > 0) {
    try {
      await deps.handOff(async () => {
        if (deliveries.length > 0) await deps.deliverQueue.addBulk(deliveries);
        if (fanouts.length > 0) await deps.fanoutQueue.addBulk(fanouts);
        // after_send: stored, so the event may go; off the send's path (its 202 was answered at enqueue).
        if (events.length > 0) await deps.hookQueue!.addBulk(events);
      });
    } catch (err) {
      for (const h of hops) h.end(err);
      throw err;
    }
    for (const h of hops) h.end();
  }
  if (recalled > 0) log.info({ recalled }, 'recalled messages left out of jobs that ran again');
  log.debug({ jobs: items.length, messages: all.length, deliveries: deliveries.length, groups: fanouts.length }, 'persisted');
};
