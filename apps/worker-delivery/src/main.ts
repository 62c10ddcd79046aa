import { createPool, offlineRepository, poolStats, type OfflineRow } from '@im/db';
import { closeRedis, createRedis, keys, mgetAny, presence, publisher, unackedTracker, waitForReady } from '@im/redis';
import { boot, closeServer, consumedShards, createQueue, every, installShutdown, jobCounts, MicroBatcher, startBatchWorker, startOpsServer, backingServiceChecks, recordPool } from '@im/worker-kit';
import { handleDeliver, type DeliverDeps } from './deliver.handler';

const { config, log, metrics, opsPort } = boot('worker-delivery');

const redis = createRedis(config.queue, 'worker', 'im-worker-delivery', (err) => log.warn({ err: err.message }, 'redis connection error'));
const pool = createPool({ url: config.mysql.url, size: config.mysql.pool_size });
const offline = offlineRepository(pool);
const shards = consumedShards(config);
const deliverQueues = shards.map((shard) => createQueue('im.deliver', redis, config, log, shard));
const publish = publisher(redis, config.queue.pubsub);

// Offline rows of concurrent jobs share one INSERT: up to 500 rows per statement.
const offlineInserts = new MicroBatcher<OfflineRow, void>(
  async (rows) => {
    await offline.insertMany(rows, Date.now());
    return rows.map(() => undefined);
  },
  { maxItems: 500, maxWaitMs: config.queue.batch_wait_ms, maxInFlight: Math.max(1, config.mysql.pool_size - 1) },
);

let backlogged = false;
const unacked = unackedTracker(redis, config.message_limits.ack_timeout_s, config.queue.prefix);

const ops = await startOpsServer({
  host: config.message_service.host,
  port: opsPort,
  registry: metrics.registry,
  checks: backingServiceChecks(redis, pool),
});

await waitForReady(redis, 60_000).catch((err) => log.warn({ err }, 'redis not ready yet; the worker will wait for it'));
const deps: DeliverDeps = {
  presence: presence(redis),
  publish: (pairs) => publish.publishMany(pairs),
  recalled: async (ids) => {
    const marks = await mgetAny(redis, ids.map(keys.recalled));
    return new Set(ids.filter((_, i) => marks[i] !== null));
  },
  trackUnacked: (items) => unacked.track(items, Date.now()),
  untrackUnacked: (items) => unacked.done(items),
  storeOffline: (rows) => offlineInserts.addMany(rows).then(() => undefined),
  backlogged: () => backlogged,
  publishAttempts: 3,
  metrics,
  now: Date.now,
};
const workers = shards.map((shard) => startBatchWorker({ queue: 'im.deliver', shard, handler: handleDeliver, deps, connection: redis, config, log, metrics, maxJobs: 100 }));

const stopSampling = every(
  1000,
  async () => {
    // Waiting jobs of the shards this process consumes, against queue_size.
    const waiting = (await Promise.all(deliverQueues.map(jobCounts))).reduce((sum, c) => sum + c.waiting, 0);
    const was = backlogged;
    backlogged = waiting > config.queue.queue_size;
    if (was !== backlogged) log.warn({ waiting, queueSize: config.queue.queue_size, backlogged }, 'delivery backlog changed');
    recordPool(metrics, poolStats(pool));
  },
  (err) => log.debug({ err }, 'sampling failed'),
);

// Redelivery: publishes not acknowledged within ack_timeout_s are stored offline, so the user
// pulls them later. Claims are leased, so several delivery processes share the work safely.
const stopRedelivery = every(
  1000,
  async () => {
    for (;;) {
      const due = await unacked.claimDue(Date.now(), 1000);
      if (due.length === 0) return;
      await offlineInserts.addMany(due);
      await unacked.done(due);
      metrics.deliveries.inc({ route: 'redelivered' }, due.length);
      log.info({ count: due.length }, 'stored unacknowledged publishes offline');
      if (due.length < 1000) return;
    }
  },
  (err) => {
    metrics.errors.inc({ component: 'redelivery', kind: 'UNAVAILABLE' });
    log.warn({ err }, 'redelivery pass failed; it is retried in 1 s');
  },
);

log.info({ opsPort, concurrency: config.queue.concurrency, shards, pubsub: config.queue.pubsub }, 'worker-delivery started');

installShutdown(log, () => [
  ['stop sampling and redelivery', async () => (stopSampling(), stopRedelivery())],
  ['close workers', () => Promise.all(workers.map((w) => w.close(20_000)))],
  ['flush offline inserts', () => offlineInserts.drain()],
  ['close queues', () => Promise.all(deliverQueues.map((q) => q.close()))],
  ['close ops server', () => closeServer(ops)],
  ['close mysql', () => pool.end()],
  ['close redis', () => closeRedis(redis)],
]);
