import { createPool, offlineRepository, partitionsRepository, poolStats } from '@im/db';
import { closeRedis, createRedis, waitForReady } from '@im/redis';
import { boot, closeServer, closeWorker, createQueue, every, installShutdown, pipelineQueues, sampleQueues, startOpsServer, startWorker, backingServiceChecks, recordPool } from '@im/worker-kit';
import { handleSweep } from './sweep.handler';

const { config, log, metrics, opsPort } = boot('worker-cleaner');

const retention = config.cleaner.history_retention_days;
if (retention > 0 && retention < config.message_limits.offline_message_ttl) {
  log.fatal({ retention, ttl: config.message_limits.offline_message_ttl }, 'cleaner.history_retention_days must be 0 (keep) or at least message_limits.offline_message_ttl');
  process.exit(2);
}

const redis = createRedis(config.queue, 'worker', 'im-worker-cleaner', (err) => log.warn({ err: err.message }, 'redis connection error'));
const pool = createPool({ url: config.mysql.url, size: Math.min(config.mysql.pool_size, 4) });
const offline = offlineRepository(pool);
const partitions = partitionsRepository(pool);
const queue = createQueue('im.cleaner', redis, config, log);
const sampled = pipelineQueues(redis, config, log);

const ops = await startOpsServer({
  host: config.message_service.host,
  port: opsPort,
  registry: metrics.registry,
  checks: backingServiceChecks(redis, pool),
});

await waitForReady(redis, 60_000).catch((err) => log.warn({ err }, 'redis not ready yet; the cleaner will wait for it'));
// One sweep at a time in the whole fleet, however many cleaners run: the scheduler makes one job
// per interval and the queue's global concurrency lets one of them be active.
await queue.setGlobalConcurrency(1);
// A sweep that fails three times waits for the next interval; the cleaner queue keeps its last 100
// failures, and its last 50 finished sweeps with their final progress, for the queue dashboard.
await queue.upsertJobScheduler(
  'sweep',
  { every: config.cleaner.interval_s * 1000 },
  { name: 'sweep', data: { task: 'sweep' }, opts: { attempts: 3, removeOnFail: { count: 100 }, removeOnComplete: { count: 50 } } },
);

const worker = startWorker({
  queue: 'im.cleaner',
  handler: handleSweep,
  deps: {
    offline,
    partitions,
    metrics,
    ttlDays: config.message_limits.offline_message_ttl,
    maxOfflinePerUser: config.message_limits.max_offline_messages,
    historyRetentionDays: retention,
    monthsAhead: 3,
    batchSize: 5000,
    now: Date.now,
  },
  connection: redis,
  config,
  log,
  metrics,
  concurrency: 1,
});

// Gauges from cheap sources: InnoDB's row estimate and information_schema sizes, Redis INFO.
const stopSampling = every(
  15_000,
  async () => {
    metrics.offlineMessages.set(await offline.estimateRows());
    for (const [table, bytes] of await partitions.storage()) metrics.storageBytes.set({ table }, bytes);
    const info = await redis.info('memory');
    const used = /used_memory:(\d+)/.exec(info);
    if (used) metrics.redisMemory.set(Number(used[1]));
    recordPool(metrics, poolStats(pool));
  },
  (err) => log.debug({ err }, 'sampling failed'),
);

// Queue gauges every 5 s, whatever the scrape rate (ingest-api samples them too).
const stopQueueSampling = sampleQueues(sampled, metrics, (err) => log.debug({ err }, 'queue sampling failed'));

log.info({ opsPort, intervalS: config.cleaner.interval_s, retention }, 'worker-cleaner started');

installShutdown(log, () => [
  ['stop sampling', async () => (stopSampling(), stopQueueSampling())],
  ['close worker', () => closeWorker(worker, 25_000)],
  ['close queues', () => Promise.all([queue.close(), ...sampled.map((q) => q.queue.close())])],
  ['close ops server', () => closeServer(ops)],
  ['close mysql', () => pool.end()],
  ['close redis', () => closeRedis(redis)],
]);
