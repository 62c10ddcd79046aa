import type { OfflineRepository, PartitionsRepository } from '@im/db';
import type { Metrics } from '@im/metrics';
import type { Redis } from '@im/redis';

/** Gauges from cheap sources: InnoDB's row estimate and information_schema sizes, Redis INFO. */
export async function sampleStorage(d: { offline: OfflineRepository; partitions: PartitionsRepository; redis: Redis; metrics: Metrics }): Promise<void> {
  d.metrics.offlineMessages.set(await d.offline.estimateRows());
  for (const [table, bytes] of await d.partitions.storage()) d.metrics.storageBytes.set({ table }, bytes);
  const used = /used_memory:(\d+)/.exec(await d.redis.info('memory'));
  if (used) d.metrics.redisMemory.set(Number(used[1]));
}
