import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '@im/metrics';
import type { OfflineRow } from '@im/db';
import type { Unacked } from '@im/redis';
import { silentLog } from '@im/worker-kit/testing';
import { redeliverDue } from './redelivery';

/** A tracker holding `due` entries past their deadline; claims hand them out `limit` at a time. */
function tracker(due: Unacked[]) {
  const left = [...due];
  const cleared: Unacked[] = [];
  return {
    cleared,
    left,
    unacked: {
      claimDue: async (_now: number, limit: number) => left.splice(0, limit),
      done: async (items: readonly Unacked[]) => void cleared.push(...items),
    },
  };
}

describe('redeliverDue (unit)', () => {
  it('stores every due publish offline, in claims of `batch`, clears each only after it is stored, and counts them', async () => {
    const due = Array.from({ length: 25 }, (_, i) => ({ user_id: String(i % 3), device_id: i % 2 ? 'phone' : 'default', message_id: String(100 + i) }));
    const t = tracker(due);
    const stored: OfflineRow[] = [];
    const metrics = createMetrics('worker-delivery');
    const n = await redeliverDue(
      {
        unacked: t.unacked,
        storeOffline: async (rows) => {
          assert.equal(t.cleared.length, stored.length, 'nothing is cleared before it is stored');
          stored.push(...rows);
        },
        metrics,
        log: silentLog,
        now: () => 0,
      },
      10,
    );
    assert.equal(n, 25);
    assert.deepEqual(stored, due);
    assert.deepEqual(t.cleared, due);
    assert.equal((await metrics.deliveries.get()).values.find((v) => v.labels.route === 'redelivered')?.value, 25);
  });

  it('leaves a claim uncleared when storing fails (its lease hands it back later)', async () => {
    const t = tracker([{ user_id: '1', device_id: 'default', message_id: '5' }]);
    await assert.rejects(
      redeliverDue({ unacked: t.unacked, storeOffline: async () => Promise.reject(new Error('mysql down')), metrics: createMetrics('worker-delivery'), log: silentLog, now: () => 0 }),
      /mysql down/,
    );
    assert.deepEqual(t.cleared, []);
  });
});
