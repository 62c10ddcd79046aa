import { conversationOf, type AcceptedMessage } from '@im/contracts';
import type { ConversationsRepository, MessagesRepository } from '@im/db';
import type { Metrics } from '@im/metrics';
import type { HotHistory } from '@im/redis';
import { MicroBatcher } from '@im/worker-kit';

export interface MessageStoreDeps {
  messages: Pick<MessagesRepository, 'insertMany' | 'page'>;
  conversations: Pick<ConversationsRepository, 'record'>;
  hot: Pick<HotHistory, 'committed'>;
  metrics: Pick<Metrics, 'messagesPersisted'>;
  batchWaitMs: number;
  /** Statements in flight at once (the pool's connections less one). */
  maxInFlight: number;
}

export interface MessageStore {
  /** Resolves once the messages are in message_history (with those of concurrent rounds). */
  store(messages: readonly AcceptedMessage[]): Promise<void>;
  /** Waits for the statements in flight (shutdown). */
  drain(): Promise<void>;
}

/**
 * Where accepted messages become history: rows of a round, and of concurrent rounds, share one
 * INSERT IGNORE of up to 500 rows, then one upsert of the conversations they touch; once committed,
 * conversations being read get the rows in their cache (@im/redis hot-history).
 */
export function messageStore(d: MessageStoreDeps): MessageStore {
  const inserts = new MicroBatcher<AcceptedMessage, void>(
    async (batch) => {
      const inserted = await d.messages.insertMany(batch);
      await d.conversations.record(batch);
      d.metrics.messagesPersisted.inc(inserted);
      await d.hot.committed(
        batch.map((m) => ({ ...m, conversation: conversationOf(m) })),
        (conversation, limit) => d.messages.page(conversation, null, limit),
      );
      return batch.map(() => undefined);
    },
    { maxItems: 500, maxWaitMs: d.batchWaitMs, maxInFlight: d.maxInFlight },
  );
  return {
    store: (messages) => inserts.addMany(messages).then(() => undefined),
    drain: () => inserts.drain(),
  };
}
