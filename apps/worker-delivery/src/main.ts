import { createPool, offlineRepository, poolStats, type OfflineRow } from '@im/db';
import { closeRedis, createRedis, keys, presence, waitForReady } from '@im/redis';
import {
  boot,
  closeServer,
  closeWorker,
  createQueue,
  every,
  installShutdown,
  jobCounts,
  MicroBatcher,
  startOpsServer,
  startWorker,
  JOB_STATES,
} from '@im/worker-kit';
import { handleDeliver } from './deliver.handler';

const { config, log, metrics, opsPort } = boot('worker-delivery');

const redis = createRedis(config.queue.redis_url, 'worker', 'im-worker-delivery', (err) => log.warn({ err: err.message }, 'redis connection error'));
const pool = createPool({ url: config.mysql.url, size: config.mysql.pool_size });
const offline = offlineRepository(pool);
const deliverQueue = createQueue('im.deliver', redis, config);

// Offline rows of concurrent jobs share one INSERT: up to 500 rows per statement.
const offlineInserts = new MicroBatcher<OfflineRow, void>(
  async (rows) => {
    await offline.insertMany(rows, Date.now());
    return rows.map(() => undefined);
  },
  { maxItems: 500, maxWaitMs: config.queue.batch_wait_ms, maxInFlight: Math.max(1, config.mysql.pool_size - 1) },
);

let backlogged = false;

const ops = await startOpsServer({
  host: config.message_service.host,
  port: opsPort,
  registry: metrics.registry,
  checks: { redis: () => redis.ping(), mysql: () => pool.query('SELECT 1') },
});

await waitForReady(redis, 60_000).catch((err) => log.warn({ err }, 'redis not ready yet; the worker will wait for it'));
const worker = startWorker({
  queue: 'im.deliver',
  handler: handleDeliver,
  deps: {
    presence: presence(redis),
    publish: (pairs) => Promise.all(pairs.map(([channel, payload]) => redis.publish(channel, payload))),
    recalled: async (ids) => {
      const marks = await redis.mget(ids.map(keys.recalled));
      return new Set(ids.filter((_, i) => marks[i] !== null));
    },
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
    for (const state of JOB_STATES) metrics.queueJobs.set({ queue: 'im.deliver', state }, counts[state]);
    const was = backlogged;
    backlogged = counts.waiting > config.queue.queue_size;
    if (was !== backlogged) log.warn({ waiting: counts.waiting, queueSize: config.queue.queue_size, backlogged }, 'delivery backlog changed');
    const stats = poolStats(pool);
    metrics.dbPoolConnections.set({ state: 'used' }, stats.used);
    metrics.dbPoolConnections.set({ state: 'free' }, stats.free);
  },
  (err) => log.debug({ err }, 'sampling failed'),
);

log.info({ opsPort, concurrency: config.queue.concurrency }, 'worker-delivery started');

installShutdown(log, () => [
  ['stop sampling', async () => stopSampling()],
  ['close worker', () => closeWorker(worker, 20_000)],
  ['flush offline inserts', () => offlineInserts.drain()],
  ['close queue', () => deliverQueue.close()],
  ['close ops server', () => closeServer(ops)],
  ['close mysql', () => pool.end()],
  ['close redis', () => closeRedis(redis)],
]);
