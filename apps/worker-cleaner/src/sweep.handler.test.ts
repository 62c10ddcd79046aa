import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import type { OfflineRepository, PartitionsRepository } from '@im/db';
import { createMetrics } from '@im/metrics';
import { silentLog } from '@im/worker-kit/testing';
import { handleSweep, type SweepDeps, type SweepProgress } from './sweep.handler';

const CAP = 100;
const BATCH = 1000;

/**
 * Offline rows of `users` users, every one over the cap, with new rows arriving for each as fast
 * as the cleaner trims it: a busy group keeps its members over the cap for as long as one looks.
 * The fake answers like the repository's SQL (users over the cap in user_id order, after a given
 * id when one is given), and refuses to be asked more often than a sweep can need.
 */
function churningOffline(users: number) {
  const ids = Array.from({ length: users }, (_, i) => String(900_719_925_474_099_300n + BigInt(i) * 7n));
  const rows = new Map(ids.map((u) => [u, CAP + 40]));
  const trims: string[] = [];
  let selections = 0;
  const offline: Partial<OfflineRepository> = {
    async deleteExpired() {
      return 0;
    },
    async devicesOverCap(cap, limit, after) {
      if (++selections > 50) throw new Error(`the cap pass selected devices over the cap ${selections} times for ${users} users: it does not end`);
      return ids
        .filter((u) => rows.get(u)! > cap && (after === undefined || BigInt(u) > BigInt(after.user_id)))
        .slice(0, limit)
        .map((user_id) => ({ user_id, device_id: 'default' }));
    },
    async trimDevice({ user_id }, keep, limit) {
      trims.push(user_id);
      // The rows trimmed are replaced by new ones at once: the device stays over the cap.
      return Math.min(rows.get(user_id)! - keep, limit);
    },
  };
  return { ids, trims, offline: offline as OfflineRepository, selections: () => selections };
}

function sweepDeps(offline: OfflineRepository) {
  const partitionCalls: string[] = [];
  const partitions: Partial<PartitionsRepository> = {
    async list() {
      partitionCalls.push('list');
      return [];
    },
  };
  const deps: SweepDeps = {
    offline,
    devices: { inactive: async () => [], remove: async () => true },
    inactiveDays: 30,
    partitions: partitions as PartitionsRepository,
    metrics: createMetrics('worker-cleaner'),
    ttlDays: 30,
    maxOfflinePerDevice: CAP,
    historyRetentionDays: 0,
    monthsAhead: 3,
    batchSize: BATCH,
    now: () => 1_700_000_000_000,
  };
  const progress: SweepProgress[] = [];
  const job = { id: 'sweep-1', updateProgress: async (p: SweepProgress) => void progress.push(p) } as unknown as Job;
  return { deps, partitionCalls, progress, ctx: { deps, log: silentLog, attempt: 1, job } };
}

describe('handleSweep (unit)', () => {
  it('trims every user over the cap once and goes on to the partitions, though new rows keep them over the cap', async () => {
    const churn = churningOffline(1_234);
    const { ctx, partitionCalls, progress } = sweepDeps(churn.offline);
    await handleSweep({ task: 'sweep' }, ctx);
    assert.deepEqual(churn.trims, churn.ids, 'each user trimmed once, in user_id order');
    assert.equal(churn.selections(), 3, 'three pages of up to 500 users');
    assert.deepEqual(partitionCalls, ['list'], 'the partitions step ran');
    const last = progress.at(-1)!;
    assert.equal(last.step, 'done');
    assert.equal(last.devicesOverCap, 1_234);
    assert.equal(last.trimmed, 1_234 * 40);
  });

  it('ends the cap pass when the last page is exactly full', async () => {
    const churn = churningOffline(500);
    const { ctx, partitionCalls } = sweepDeps(churn.offline);
    await handleSweep({ task: 'sweep' }, ctx);
    assert.equal(churn.trims.length, 500);
    assert.equal(churn.selections(), 2, 'a full page, then an empty one');
    assert.deepEqual(partitionCalls, ['list']);
  });
});
