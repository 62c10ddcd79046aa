import type { StoredMessage } from '@im/contracts';
import { conversationOf, conversationsRepository, createPool, messagesRepository, poolStats } from '@im/db';
import { closeRedis, createRedis, hotHistory, waitForReady } from '@im/redis';
import { boot, closeServer, consumedShards, createQueue, every, installShutdown, MicroBatcher, startBatchWorker, startOpsServer, backingServiceChecks, recordPool } from '@im/worker-kit';
import { handlePersist } from './persist.handler';

const { config, log, metrics, opsPort } = boot('worker-persist');

const redis = createRedis(config.queue, 'worker', 'im-worker-persist', (err) => log.warn({ err: err.message }, 'redis connection error'));
const pool = createPool({ url: config.mysql.url, size: config.mysql.pool_size });
const messages = messagesRepository(pool);
const conversations = conversationsRepository(pool);
const shards = consumedShards(config);
const hot = hotHistory(redis, { size: config.history_cache.messages, ttlS: config.history_cache.ttl_s, shards: config.queue.shards });

// Rows of a round (and of concurrent rounds) share one INSERT of up to 500 rows, then one upsert of
// the conversations they touch.
const inserts = new MicroBatcher<StoredMessage, void>(
  async (batch) => {
    const inserted = await messages.insertMany(batch);
    await conversations.record(batch);
    metrics.messagesPersisted.inc(inserted);
    // Committed: conversations being read get these rows in their cache.
    await hot.committed(
      batch.map((m) => ({ ...m, conversation: conversationOf(m) })),
      (conversation, limit) => messages.page(conversation, null, limit),
    );
    return batch.map(() => undefined);
  },
  { maxItems: 500, maxWaitMs: config.queue.batch_wait_ms, maxInFlight: Math.max(1, config.mysql.pool_size - 1) },
);

const ops = await startOpsServer({
  host: config.message_service.host,
  port: opsPort,
  registry: metrics.registry,
  checks: backingServiceChecks(redis, pool),
});

await waitForReady(redis, 60_000).catch((err) => log.warn({ err }, 'redis not ready yet; the worker will wait for it'));
// One worker per shard; a shard's messages go on to the same shard's delivery and fan-out queues.
const handOff = shards.map((shard) => ({ deliverQueue: createQueue('im.deliver', redis, config, log, shard), fanoutQueue: createQueue('im.fanout', redis, config, log, shard) }));
const workers = shards.map((shard, i) =>
  startBatchWorker({
    queue: 'im.persist',
    shard,
    handler: handlePersist,
    deps: { store: (batch) => inserts.addMany(batch).then(() => undefined), ...handOff[i]!, metrics },
    connection: redis,
    config,
    log,
    metrics,
    maxJobs: 100,
  }),
);

const stopSampling = every(
  5000,
  async () => {
    recordPool(metrics, poolStats(pool));
  },
  (err) => log.debug({ err }, 'sampling failed'),
);

log.info({ opsPort, concurrency: config.queue.concurrency, shards }, 'worker-persist started');

installShutdown(log, () => [
  ['stop sampling', async () => stopSampling()],
  ['close workers', () => Promise.all(workers.map((w) => w.close(20_000)))],
  ['flush inserts', () => inserts.drain()],
  ['close queues', () => Promise.all(handOff.flatMap((q) => [q.deliverQueue.close(), q.fanoutQueue.close()]))],
  ['close ops server', () => closeServer(ops)],
  ['close mysql', () => pool.end()],
  ['close redis', () => closeRedis(redis)],
]);
