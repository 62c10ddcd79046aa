import type { DevicesRepository, OfflineRepository, PartitionsRepository } from '@im/db';
import type { Metrics } from '@im/metrics';
import type { Presence, Redis } from '@im/redis';

/** Gauges from cheap sources: InnoDB's row estimate and information_schema sizes, Redis INFO, the device counts. */
export async function sampleStorage(d: {
  offline: OfflineRepository;
  partitions: PartitionsRepository;
  devices: Pick<DevicesRepository, 'count'>;
  presence: Pick<Presence, 'countOnline'>;
  redis: Redis;
  metrics: Metrics;
}): Promise<void> {
  d.metrics.offlineMessages.set(await d.offline.estimateRows());
  d.metrics.devicesRegistered.set(await d.devices.count());
  d.metrics.devicesOnline.set(await d.presence.countOnline());
  for (const [table, bytes] of await d.partitions.storage()) d.metrics.storageBytes.set({ table }, bytes);
  const used = /used_memory:(\d+)/.exec(await d.redis.info('memory'));
  if (used) d.metrics.redisMemory.set(Number(used[1]));
}
