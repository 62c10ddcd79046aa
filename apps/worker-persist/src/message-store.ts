import { conversationOf, type AcceptedMessage } from '@im/contracts';
import type { ConversationsRepository, MessagesRepository } from '@im/db';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import type { HotHistory } from '@im/redis';
import { MicroBatcher } from '@im/worker-kit';

export interface MessageStoreDeps {
  messages: Pick<MessagesRepository, 'insertMany' | 'page' | 'claimSeqs' | 'claimSeq' | 'maxClaimedSeq'>;
  conversations: Pick<ConversationsRepository, 'record'>;
  hot: Pick<HotHistory, 'committed'>;
  /** A new seq for a conversation, above `floor` and above every seq its counter handed out. */
  takeSeqAbove(conversation: string, floor: number): Promise<number>;
  metrics: Pick<Metrics, 'messagesPersisted' | 'errors'>;
  log: Logger;
  batchWaitMs: number;
  /** Statements in flight at once (the pool's connections less one). */
  maxInFlight: number;
}

export interface MessageStore {
  /**
   * Resolves once the messages are in message_history (with those of concurrent rounds), with
   * each message as stored: its seq is the one it carried, unless another message held that
   * (conversation, seq) already and it was stored under a new one.
   */
  store(messages: readonly AcceptedMessage[]): Promise<AcceptedMessage[]>;
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

  const inserts = new MicroBatcher<AcceptedMessage, AcceptedMessage>(
    async (batch) => {
      const claims = await d.messages.claimSeqs(batch);
      let stored: AcceptedMessage[] = batch;
      if (claims.conflicts.length > 0 || claims.moved.size > 0) {
        const renumbered = new Map<string, AcceptedMessage>();
        for (const m of claims.conflicts) renumbered.set(m.message_id, await resequence(m));
        stored = batch.map((m) => renumbered.get(m.message_id) ?? (claims.moved.has(m.message_id) ? { ...m, seq: claims.moved.get(m.message_id)! } : m));
      }
      const inserted = await d.messages.insertMany(stored);
      await d.conversations.record(stored);
      d.metrics.messagesPersisted.inc(inserted);
      await d.hot.committed(
        stored.map((m) => ({ ...m, conversation: conversationOf(m) })),
        (conversation, limit) => d.messages.page(conversation, null, limit),
      );
      return stored;
    },
    { maxItems: 500, maxWaitMs: d.batchWaitMs, maxInFlight: d.maxInFlight },
  );
  return {
    store: (messages) => inserts.addMany(messages),
    drain: () => inserts.drain(),
  };
}
