import { conversationOf, type AcceptedMessage } from '@im/contracts';
import type { ConversationsRepository, MessagesRepository, RecallsRepository } from '@im/db';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import type { HotHistory } from '@im/redis';
import { MicroBatcher } from '@im/worker-kit';

export interface MessageStoreDeps {
  messages: Pick<MessagesRepository, 'insertMany' | 'page' | 'remove' | 'claimSeqs' | 'claimSeq' | 'maxClaimedSeq'>;
  conversations: Pick<ConversationsRepository, 'record' | 'states' | 'refreshLast'>;
  recalls: Pick<RecallsRepository, 'among'>;
  hot: Pick<HotHistory, 'committed' | 'forget'>;
  /** A new seq for a conversation, above `floor` and above every seq its counter handed out. */
  takeSeqAbove(conversation: string, floor: number): Promise<number>;
  metrics: Pick<Metrics, 'messagesPersisted' | 'errors'>;
  log: Logger;
  batchWaitMs: number;
  /** Statements in flight at once (the pool's connections less one). */
  maxInFlight: number;
}

/** A message to store, and whether its job may have stored it before (a retry, a stall). */
export interface ToStore {
  message: AcceptedMessage;
  redone: boolean;
}

export interface MessageStore {
  /**
   * Resolves once the messages are in message_history (with those of concurrent rounds), with
   * each message as stored, in order: its seq is the one it carried, unless another message held
   * that (conversation, seq) already and it was stored under a new one; null for a redone message
   * that was recalled (not in history, to go no further).
   */
  store(messages: readonly ToStore[]): Promise<(AcceptedMessage | null)[]>;
  /** Waits for the statements in flight (shutdown). */
  drain(): Promise<void>;
}

/** Attempts to claim a new seq for one message before the round fails (and is retried). */
const RESEQUENCE_TRIES = 5;

/**
 * Where accepted messages become history: rows of a round, and of concurrent rounds, share one
 * claim of their (conversation, seq) pairs, one INSERT IGNORE of up to 500 rows, then one upsert
 * of the conversations they touch; once committed, conversations being read get the rows in
 * their cache (@im/redis hot-history).
 *
 * A seq is never stored twice in a conversation: a message whose pair another message holds is a
 * detected fault (a failover to a Redis replica that lagged handed its seq out again), counted as
 * im_errors_total{component="im.persist", kind="seq_conflict"}, and stored under a new seq taken
 * above every seq claimed for its conversation. Its sender's 202 named the old seq; the receivers
 * get the new one, as clients order by what they receive.
 *
 * A recall is final (message_recall), and INSERT IGNORE would bring a recalled message back if its
 * job ran again. A message can only be recalled once its row is in history, so only a job that
 * ran before can meet one: for redone messages only, the store looks their recalls up before the
 * INSERT (those are left out) and again after the cache (a recall that ran while this round wrote
 * may have deleted the row before the INSERT put it back: the round finishes that recall's work).
 * A first run costs nothing more.
 */
export function messageStore(d: MessageStoreDeps): MessageStore {
  async function resequence(m: AcceptedMessage): Promise<AcceptedMessage> {
    const conversation = conversationOf(m);
    for (let attempt = 1; attempt <= RESEQUENCE_TRIES; attempt++) {
      const seq = await d.takeSeqAbove(conversation, await d.messages.maxClaimedSeq(conversation));
      if (await d.messages.claimSeq(conversation, seq, m.message_id)) {
        d.metrics.errors.inc({ component: 'im.persist', kind: 'seq_conflict' });
        d.log.error({ conversation, messageId: m.message_id, seq: m.seq, storedAs: seq }, 'seq already stored for another message: this message is stored under a new seq');
        return { ...m, seq };
      }
    }
    throw new Error(`could not claim a new seq for message ${m.message_id} in ${RESEQUENCE_TRIES} tries; the round is retried`);
  }

  /** Each message with the seq it holds in message_seq: the one it carried, or a new one. */
  async function claim(rows: AcceptedMessage[]): Promise<AcceptedMessage[]> {
    const claims = await d.messages.claimSeqs(rows);
    if (claims.conflicts.length === 0 && claims.moved.size === 0) return rows;
    const renumbered = new Map<string, AcceptedMessage>();
    for (const m of claims.conflicts) renumbered.set(m.message_id, await resequence(m));
    return rows.map((m) => renumbered.get(m.message_id) ?? (claims.moved.has(m.message_id) ? { ...m, seq: claims.moved.get(m.message_id)! } : m));
  }

  /** Finishes recalls that raced this round: the row, its offline rows, the cache, the last message. */
  async function undo(recalled: readonly AcceptedMessage[]): Promise<void> {
    for (const m of recalled) await d.messages.remove(m.message_id);
    const conversations = [...new Set(recalled.map(conversationOf))];
    const states = await d.conversations.states(conversations);
    for (const c of conversations) {
      await d.hot.forget(c);
      if (recalled.some((m) => m.message_id === states.get(c)?.last_message_id)) await d.conversations.refreshLast(c);
    }
  }

  const inserts = new MicroBatcher<ToStore, AcceptedMessage | null>(
    async (batch) => {
      const redone = batch.filter((i) => i.redone).map((i) => i.message.message_id);
      const before = redone.length > 0 ? await d.recalls.among(redone) : new Set<string>();
      const rows = await claim(batch.filter((i) => !before.has(i.message.message_id)).map((i) => i.message));
      if (rows.length > 0) {
        const inserted = await d.messages.insertMany(rows);
        await d.conversations.record(rows);
        d.metrics.messagesPersisted.inc(inserted);
        await d.hot.committed(
          rows.map((m) => ({ ...m, conversation: conversationOf(m) })),
          (conversation, limit) => d.messages.page(conversation, null, limit),
        );
      }
      const unchecked = redone.filter((id) => !before.has(id));
      const during = unchecked.length > 0 ? await d.recalls.among(unchecked) : new Set<string>();
      if (during.size > 0) await undo(rows.filter((m) => during.has(m.message_id)));
      const stored = new Map(rows.map((m) => [m.message_id, m]));
      return batch.map((i) => (before.has(i.message.message_id) || during.has(i.message.message_id) ? null : stored.get(i.message.message_id)!));
    },
    { spanName: 'message_history insert', maxItems: 500, maxWaitMs: d.batchWaitMs, maxInFlight: d.maxInFlight },
  );
  return {
    store: (messages) => inserts.addMany(messages),
    drain: () => inserts.drain(),
  };
}
