import { conversationOf, type AcceptedMessage } from '@im/contracts';
import type { ConversationsRepository, MessagesRepository, RecallsRepository } from '@im/db';
import type { Metrics } from '@im/metrics';
import type { HotHistory } from '@im/redis';
import { MicroBatcher } from '@im/worker-kit';

export interface MessageStoreDeps {
  messages: Pick<MessagesRepository, 'insertMany' | 'page' | 'remove'>;
  conversations: Pick<ConversationsRepository, 'record' | 'states' | 'refreshLast'>;
  recalls: Pick<RecallsRepository, 'among'>;
  hot: Pick<HotHistory, 'committed' | 'forget'>;
  metrics: Pick<Metrics, 'messagesPersisted'>;
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
   * the ids of redone messages that were recalled: those are not in history and go no further.
   */
  store(messages: readonly ToStore[]): Promise<Set<string>>;
  /** Waits for the statements in flight (shutdown). */
  drain(): Promise<void>;
}

/**
 * Where accepted messages become history: rows of a round, and of concurrent rounds, share one
 * INSERT IGNORE of up to 500 rows, then one upsert of the conversations they touch; once committed,
 * conversations being read get the rows in their cache (@im/redis hot-history).
 *
 * A recall is final (message_recall), and INSERT IGNORE would bring a recalled message back if its
 * job ran again. A message can only be recalled once its row is in history, so only a job that
 * ran before can meet one: for redone messages only, the store looks their recalls up before the
 * INSERT (those are left out) and again after the cache (a recall that ran while this round wrote
 * may have deleted the row before the INSERT put it back: the round finishes that recall's work).
 * A first run costs nothing more.
 */
export function messageStore(d: MessageStoreDeps): MessageStore {
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

  const inserts = new MicroBatcher<ToStore, boolean>(
    async (batch) => {
      const redone = batch.filter((i) => i.redone).map((i) => i.message.message_id);
      const before = redone.length > 0 ? await d.recalls.among(redone) : new Set<string>();
      const rows = batch.filter((i) => !before.has(i.message.message_id)).map((i) => i.message);
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
      return batch.map((i) => before.has(i.message.message_id) || during.has(i.message.message_id));
    },
    { maxItems: 500, maxWaitMs: d.batchWaitMs, maxInFlight: d.maxInFlight },
  );
  return {
    async store(messages) {
      const recalled = await inserts.addMany(messages);
      return new Set(messages.filter((_, i) => recalled[i]).map((i) => i.message.message_id));
    },
    drain: () => inserts.drain(),
  };
}
