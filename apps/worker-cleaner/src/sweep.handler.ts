import type { Config } from '@im/config';
import type { DeviceRef, DevicesRepository, OfflineRepository, PartitionsRepository, Pool } from '@im/db';
import type { Metrics } from '@im/metrics';
import type { Handler } from '@im/worker-kit';
import { devicesRepository, maintainPartitions, offlineRepository, partitionsRepository } from '@im/db';

export interface SweepDeps {
  offline: OfflineRepository;
  devices: Pick<DevicesRepository, 'inactive' | 'remove'>;
  /** devices.inactive_days. */
  inactiveDays: number;
  partitions: PartitionsRepository;
  metrics: Metrics;
  ttlDays: number;
  /** message_limits.max_offline_messages: the cap of each device's sync. */
  maxOfflinePerDevice: number;
  historyRetentionDays: number;
  monthsAhead: number;
  /** Rows per DELETE: small enough that no statement holds locks for long. */
  batchSize: number;
  now(): number;
}

/** A sweep's dependencies as worker-cleaner builds them: the repositories on `pool`, the limits of `config`. */
export function sweepDeps(pool: Pool, config: Pick<Config, 'devices' | 'message_limits' | 'cleaner'>, metrics: Metrics): SweepDeps {
  return {
    offline: offlineRepository(pool),
    devices: devicesRepository(pool),
    inactiveDays: config.devices.inactive_days,
    partitions: partitionsRepository(pool),
    metrics,
    ttlDays: config.message_limits.offline_message_ttl,
    maxOfflinePerDevice: config.message_limits.max_offline_messages,
    historyRetentionDays: config.cleaner.history_retention_days,
    monthsAhead: 3,
    batchSize: 5000,
    now: Date.now,
  };
}

const DAY_MS = 86_400_000;
/** Devices over the cap (or inactive) looked up per query. */
const CAP_PAGE = 500;

/** What a sweep has done so far: the job's progress, shown by the queue dashboard (/queues). */
export interface SweepProgress {
  step: 'devices' | 'ttl' | 'cap' | 'partitions' | 'done';
  devicesForgotten: number;
  expired: number;
  trimmed: number;
  devicesOverCap: number;
  partitionsAdded: string[];
  partitionsDropped: string[];
  startedAt: number;
}

/**
 * One clean-up pass: devices not seen for devices.inactive_days (with their sync), offline rows
 * past their TTL, offline rows beyond a device's cap (oldest first; each device once, in
 * (user_id, device_id) order), then history partitions. Deletes go in bounded batches, each
 * its own short statement, with progress in the log and in the job (at each step and every 20
 * batches), ending with the totals.
 */
export const handleSweep: Handler<'im.cleaner', SweepDeps> = async (_payload, { deps, log, job }) => {
  const started = deps.now();
  const progress: SweepProgress = { step: 'devices', devicesForgotten: 0, expired: 0, trimmed: 0, devicesOverCap: 0, partitionsAdded: [], partitionsDropped: [], startedAt: started };
  const report = (step: SweepProgress['step']) => job.updateProgress({ ...progress, step });
  await report('devices');
  const unseenSince = started - deps.inactiveDays * DAY_MS;
  for (;;) {
    const inactive = await deps.devices.inactive(unseenSince, CAP_PAGE);
    for (const device of inactive) if (await deps.devices.remove(device.user_id, device.device_id)) progress.devicesForgotten++;
    deps.metrics.devicesForgotten.inc(inactive.length);
    if (inactive.length < CAP_PAGE) break;
    await report('devices');
  }
  if (progress.devicesForgotten > 0) log.info({ devices: progress.devicesForgotten, inactiveDays: deps.inactiveDays }, 'forgot inactive devices');

  await report('ttl');
  const cutoff = started - deps.ttlDays * DAY_MS;
  for (let batch = 1; ; batch++) {
    const n = await deps.offline.deleteExpired(cutoff, deps.batchSize);
    progress.expired += n;
    deps.metrics.cleanerDeleted.inc({ reason: 'ttl' }, n);
    if (batch % 20 === 0) {
      log.info({ expired: progress.expired }, 'deleting expired offline messages');
      await report('ttl');
    }
    if (n < deps.batchSize) break;
  }

  await report('cap');
  // Devices in (user_id, device_id) order, each trimmed once per sweep: a page starts after the last
  // device of the one before, so devices that new rows keep over the cap cannot hold the pass.
  let batch = 1;
  for (let after: DeviceRef | undefined; ; ) {
    const over = await deps.offline.devicesOverCap(deps.maxOfflinePerDevice, CAP_PAGE, after);
    for (const device of over) {
      for (;;) {
        const n = await deps.offline.trimDevice(device, deps.maxOfflinePerDevice, deps.batchSize);
        progress.trimmed += n;
        deps.metrics.cleanerDeleted.inc({ reason: 'cap' }, n);
        if (batch++ % 20 === 0) await report('cap');
        if (n < deps.batchSize) break;
      }
    }
    progress.devicesOverCap += over.length;
    if (over.length < CAP_PAGE) break;
    after = over.at(-1);
    await report('cap');
  }

  await report('partitions');
  const parts = await maintainPartitions(deps.partitions, deps.now(), deps.monthsAhead, deps.historyRetentionDays);
  progress.partitionsAdded = parts.added;
  progress.partitionsDropped = parts.dropped;
  await report('done');
  log.info(
    {
      expired: progress.expired,
      trimmed: progress.trimmed,
      devicesForgotten: progress.devicesForgotten,
      devicesOverCap: progress.devicesOverCap,
      partitioned: parts.partitioned,
      partitionsAdded: parts.added,
      partitionsDropped: parts.dropped,
      ms: deps.now() - started,
    },
    'sweep done',
  );
};
