import { devicesRepository } from '@im/db';
import { presence } from '@im/redis';
import { createQueue, every, pipelineQueues, runWorker, sampleQueues, startWorker } from '@im/worker-kit';
import { scheduleSweeps } from './schedule';
import { handleSweep, sweepDeps } from './sweep.handler';
import { sampleStorage } from './storage-gauges';

// A sweep every cleaner.interval_s (inactive devices, offline TTL and cap, history partitions), one at a time in the
// fleet; and the gauges of storage, Redis memory and every pipeline queue.
await runWorker(
  'worker-cleaner',
  async ({ config, log, metrics, redis, pool, topology }) => {
    const deps = sweepDeps(pool, config, metrics);
    const devices = devicesRepository(pool);
    const queue = createQueue('im.cleaner', redis, config, log, topology.shard(0));
    await scheduleSweeps(queue, config.cleaner.interval_s);
    const worker = startWorker({
      queue: 'im.cleaner',
      shard: topology.shard(0),
      handler: handleSweep,
      deps,
      connection: redis,
      config,
      log,
      metrics,
      concurrency: 1,
    });
    const sampled = pipelineQueues(redis, config, log, topology);
    const stopStorageGauges = every(15_000, () => sampleStorage({ offline: deps.offline, partitions: deps.partitions, devices, presence: presence(redis), redis, metrics }), (err) => log.debug({ err }, 'sampling failed'));
    const stopQueueGauges = sampleQueues(sampled, metrics, (err) => log.debug({ err }, 'queue sampling failed'));
    return {
      workers: [worker],
      loops: [stopStorageGauges, stopQueueGauges],
      queues: [queue, ...sampled.map((q) => q.queue)],
      started: { intervalS: config.cleaner.interval_s, retention: config.cleaner.history_retention_days },
    };
  },
  { poolSize: ({ config }) => Math.min(config.mysql.pool_size, 4), closeTimeoutMs: 25_000 },
);
