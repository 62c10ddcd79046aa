import { createPool, offlineRepository, poolStats, type OfflineRow } from '@im/db';
import { closeRedis, createRedis, keys, presence, unackedTracker, waitForReady } from '@im/redis';
import { boot, closeServer, closeWorker, createQueue, every, installShutdown, jobCounts, MicroBatcher, startOpsServer, startWorker, backingServiceChecks, recordPool } from '@im/worker-kit';
import { handleDeliver } from './deliver.handler';

const { config, log, metrics, opsPort } = boot('worker-delivery');

const redis = createRedis(config.queue, 'worker', 'im-worker-delivery', (err) => log.warn({ err: err.message }, 'redis connection error'));
const pool = createPool({ url: config.mysql.url, size: config.mysql.pool_size });
const offline = offlineRepository(pool);
const deliverQueue = createQueue('im.deliver', redis, config, log);

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
const worker = startWorker({
  queue: 'im.deliver',
  handler: handleDeliver,
  deps: {
    presence: presence(redis),
    publish: async (pairs) => {
      const pipeline = redis.pipeline();
      for (const [channel, payload] of pairs) pipeline.publish(channel, payload);
      const results = (await pipeline.exec()) ?? [];
      return results.map(([err, heard]) => {
        if (err) throw err;
        return Number(heard);
      });
    },
    recalled: async (ids) => {
      const marks = await redis.mget(ids.map(keys.recalled));
      return new Set(ids.filter((_, i) => marks[i] !== null));
    },
    trackUnacked: (items) => unacked.track(items, Date.now()),
    untrackUnacked: (items) => unacked.done(items),
    storeOffline: (rows) => offlineInserts.addMany(rows).then(() => undefined),
    backlogged: () => backlogged,
    publishAttempts: 3,
    metrics,
    now: Date.now,
  },
  connection: redis,
  config,
  log,
  metrics,
});

const stopSampling = every(
  1000,
  async () => {
    const counts = await jobCounts(deliverQueue);
    const was = backlogged;
    backlogged = counts.waiting > config.queue.queue_size;
    if (was !== backlogged) log.warn({ waiting: counts.waiting, queueSize: config.queue.queue_size, backlogged }, 'delivery backlog changed');
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

log.info({ opsPort, concurrency: config.queue.concurrency }, 'worker-delivery started');

installShutdown(log, () => [
  ['stop sampling and redelivery', async () => (stopSampling(), stopRedelivery())],
  ['close worker', () => closeWorker(worker, 20_000)],
  ['flush offline inserts', () => offlineInserts.drain()],
  ['close queue', () => deliverQueue.close()],
  ['close ops server', () => closeServer(ops)],
  ['close mysql', () => pool.end()],
  ['close redis', () => closeRedis(redis)],
]);
