import type { OfflineRepository, PartitionsRepository } from '@im/db';
import type { Metrics } from '@im/metrics';
import type { Handler } from '@im/worker-kit';
import { maintainPartitions } from '@im/db';

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
/** Users over the cap looked up per query. */
const CAP_PAGE = 500;

/** What a sweep has done so far: the job's progress, shown by the queue dashboard (/queues). */
export interface SweepProgress {
  step: 'ttl' | 'cap' | 'partitions' | 'done';
  expired: number;
  trimmed: number;
  usersOverCap: number;
  partitionsAdded: string[];
  partitionsDropped: string[];
  startedAt: number;
}

/**
 * One clean-up pass: offline rows past their TTL, offline rows beyond a user's cap (oldest first;
 * each user once, in user_id order), then history partitions. Deletes go in bounded batches, each
 * its own short statement, with progress in the log and in the job (at each step and every 20
 * batches), ending with the totals.
 */
export const handleSweep: Handler<'im.cleaner', SweepDeps> = async (_payload, { deps, log, job }) => {
  const started = deps.now();
  const progress: SweepProgress = { step: 'ttl', expired: 0, trimmed: 0, usersOverCap: 0, partitionsAdded: [], partitionsDropped: [], startedAt: started };
  const report = (step: SweepProgress['step']) => job.updateProgress({ ...progress, step });
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
  // Users in user_id order, each trimmed once per sweep: a page starts after the last user of the
  // one before, so users that new rows keep over the cap (a busy group) cannot hold the pass.
  let batch = 1;
  for (let after: string | undefined; ; ) {
    const over = await deps.offline.usersOverCap(deps.maxOfflinePerUser, CAP_PAGE, after);
    for (const user of over) {
      for (;;) {
        const n = await deps.offline.trimUser(user, deps.maxOfflinePerUser, deps.batchSize);
        progress.trimmed += n;
        deps.metrics.cleanerDeleted.inc({ reason: 'cap' }, n);
        if (batch++ % 20 === 0) await report('cap');
        if (n < deps.batchSize) break;
      }
    }
    progress.usersOverCap += over.length;
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
      usersOverCap: progress.usersOverCap,
      partitioned: parts.partitioned,
      partitionsAdded: parts.added,
      partitionsDropped: parts.dropped,
      ms: deps.now() - started,
    },
    'sweep done',
  );
};
