import { createPool, groupsRepository, poolStats } from '@im/db';
import { closeRedis, createRedis, groupMembersCache, waitForReady } from '@im/redis';
import { boot, closeServer, closeWorker, consumedShards, createQueue, every, installShutdown, startOpsServer, startWorker, backingServiceChecks, recordPool } from '@im/worker-kit';
import { handleFanout } from './fanout.handler';

const CHUNK_SIZE = 500;

const { config, log, metrics, opsPort } = boot('worker-fanout');

const redis = createRedis(config.queue, 'worker', 'im-worker-fanout', (err) => log.warn({ err: err.message }, 'redis connection error'));
const pool = createPool({ url: config.mysql.url, size: config.mysql.pool_size });
const members = groupMembersCache(redis, groupsRepository(pool).members);
const shards = consumedShards(config);
const deliverQueues = shards.map((shard) => createQueue('im.deliver', redis, config, log, shard));

const ops = await startOpsServer({
  host: config.message_service.host,
  port: opsPort,
  registry: metrics.registry,
  checks: backingServiceChecks(redis, pool),
});

await waitForReady(redis, 60_000).catch((err) => log.warn({ err }, 'redis not ready yet; the worker will wait for it'));
// One worker per shard; a group message's chunks go to its shard's delivery queue.
const workers = shards.map((shard, i) =>
  startWorker({
    queue: 'im.fanout',
    shard,
    handler: handleFanout,
    deps: { members: members.members, deliverQueue: deliverQueues[i]!, chunkSize: CHUNK_SIZE },
    connection: redis,
    config,
    log,
    metrics,
  }),
);

const stopSampling = every(
  5000,
  async () => {
    recordPool(metrics, poolStats(pool));
  },
  (err) => log.debug({ err }, 'sampling failed'),
);

log.info({ opsPort, chunkSize: CHUNK_SIZE, shards }, 'worker-fanout started');

installShutdown(log, () => [
  ['stop sampling', async () => stopSampling()],
  ['close workers', () => Promise.all(workers.map((w) => closeWorker(w, 20_000)))],
  ['close queues', () => Promise.all(deliverQueues.map((q) => q.close()))],
  ['close ops server', () => closeServer(ops)],
  ['close mysql', () => pool.end()],
  ['close redis', () => closeRedis(redis)],
]);
