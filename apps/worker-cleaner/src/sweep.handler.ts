import type { OfflineRepository, PartitionsRepository } from '@im/db';
import type { Metrics } from '@im/metrics';
import type { Handler } from '@im/worker-kit';
import { maintainPartitions } from './partitions';

export interface SweepDeps {
  offline: OfflineRepository;
  partitions: PartitionsRepository;
  metrics: Metrics;
  ttlDays: number;
  maxOfflinePerUser: number;
  historyRetentionDays: number;
  monthsAhead: number;
  /** Rows per DELETE: small enough that no statement holds locks for long. */
  batchSize: number;
  now(): number;
}

const DAY_MS = 86_400_000;

/**
 * One clean-up pass: offline rows past their TTL, offline rows beyond a user's cap (oldest first),
 * then history partitions. Deletes go in bounded batches, each its own short statement, with
 * progress in the log and the job.
 */
export const handleSweep: Handler<'im.cleaner', SweepDeps> = async (_payload, { deps, log, job }) => {
  const started = deps.now();
  const cutoff = started - deps.ttlDays * DAY_MS;
  let expired = 0;
  for (let batch = 1; ; batch++) {
    const n = await deps.offline.deleteExpired(cutoff, deps.batchSize);
    expired += n;
    deps.metrics.cleanerDeleted.inc({ reason: 'ttl' }, n);
    if (batch % 20 === 0) {
      log.info({ expired }, 'deleting expired offline messages');
      await job.updateProgress({ step: 'ttl', deleted: expired });
    }
    if (n < deps.batchSize) break;
  }

  let trimmed = 0;
  let users = 0;
  for (;;) {
    const over = await deps.offline.usersOverCap(deps.maxOfflinePerUser, 500);
    for (const user of over) {
      for (;;) {
        const n = await deps.offline.trimUser(user, deps.maxOfflinePerUser, deps.batchSize);
        trimmed += n;
        deps.metrics.cleanerDeleted.inc({ reason: 'cap' }, n);
        if (n < deps.batchSize) break;
      }
    }
    users += over.length;
    if (over.length < 500) break;
    await job.updateProgress({ step: 'cap', users, deleted: trimmed });
  }

  const parts = await maintainPartitions(deps.partitions, deps.now(), deps.monthsAhead, deps.historyRetentionDays);
  log.info(
    {
      expired,
      trimmed,
      usersOverCap: users,
      partitioned: parts.partitioned,
      partitionsAdded: parts.added,
      partitionsDropped: parts.dropped,
      ms: deps.now() - started,
    },
    'sweep done',
  );
};
