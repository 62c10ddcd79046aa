import { conversationsRepository, messagesRepository, recallsRepository } from '@im/db';
import { hotHistory, reclaimDedupe, takeSeqAbove } from '@im/redis';
import { createQueue, handOff, runWorker, startBatchWorker } from '@im/worker-kit';
import { messageStore } from './message-store';
import { handlePersist } from './persist.handler';

// Accepted messages into history, then on to delivery (single chats) and fan-out (groups) of the
// same shard.
await runWorker('worker-persist', ({ config, log, metrics, redis, pool, topology, shards }) => {
  const store = messageStore({
    messages: messagesRepository(pool),
    conversations: conversationsRepository(pool),
    recalls: recallsRepository(pool),
    hot: hotHistory(redis, { size: config.history_cache.messages, ttlS: config.history_cache.ttl_s, topology }),
    takeSeqAbove: (conversation, floor) => takeSeqAbove(redis, topology.of(conversation), conversation, floor),
    metrics,
    log,
    batchWaitMs: config.queue.batch_wait_ms,
    maxInFlight: Math.max(1, config.mysql.pool_size - 1),
  });
  const next = shards.map((shard) => ({
    deliverQueue: createQueue('im.deliver', redis, config, log, shard),
    fanoutQueue: createQueue('im.fanout', redis, config, log, shard),
    handOff: handOff({ connection: redis, config, shard, log }),
    // A message's dedupe record lives in its conversation's shard; one of another shard (a job of
    // the layout before a reshard) is not claimed here.
    reclaim: (messages: Parameters<typeof reclaimDedupe>[2]) => reclaimDedupe(redis, shard, messages.filter((m) => topology.of(m.conversation).index === shard.index)),
    ...(config.hooks.after_send_url ? { hookQueue: createQueue('im.hook', redis, config, log, shard) } : {}),
  }));
  const workers = shards.map((shard, i) =>
    startBatchWorker({ queue: 'im.persist', shard, sequenced: config.queue.ordered, handler: handlePersist, deps: { store: store.store, ...next[i]!, metrics }, connection: redis, config, log, metrics, maxJobs: 100 }),
  );
  return {
    workers,
    flush: [store.drain],
    queues: next.flatMap((q) => [q.deliverQueue, q.fanoutQueue, ...(q.hookQueue ? [q.hookQueue] : [])]),
    started: { concurrency: config.queue.concurrency },
  };
});
