import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '@im/metrics';
import type { OfflineRow } from '@im/db';
import type { Unacked } from '@im/redis';
import { silentLog } from '@im/worker-kit/testing';
import type { HistoryRow } from '@im/db';
import type { PushItem } from '@im/contracts';
import { redeliverDue, redeliveredPushes } from './redelivery';

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

  it('with push on, hands what it stored to the push hand-off after storing it; a push queue that fails holds nothing back', async () => {
    const due = [
      { user_id: '2', device_id: 'phone', message_id: '7' },
      { user_id: '3', device_id: 'default', message_id: '8' },
    ];
    const t = tracker(due);
    const order: string[] = [];
    const metrics = createMetrics('worker-delivery');
    const n = await redeliverDue({
      unacked: t.unacked,
      storeOffline: async () => void order.push('stored'),
      push: async (items) => {
        order.push(`push ${items.map((i) => i.message_id).join(',')}`);
        throw new Error('push queue down');
      },
      metrics,
      log: silentLog,
      now: () => 0,
    });
    assert.equal(n, 2);
    assert.deepEqual(order, ['stored', 'push 7,8']);
    assert.deepEqual(t.cleared, due);
    assert.equal((await metrics.errors.get()).values.find((v) => v.labels.component === 'push_enqueue')?.value, 1);
  });

  it('pushes a redelivered message to its receiver device, from history, never to the sender, nothing for a recalled one', async () => {
    const row = (id: string, sender: string, receiver: string): HistoryRow => ({ message_id: id, conversation: `s:${sender}:${receiver}`, seq: 1, sender_id: sender, receiver_id: receiver, group_id: null, content: 'hi', message_type: 'text', created_at: 5 });
    const asked: string[][] = [];
    const pushed: PushItem[] = [];
    const push = redeliveredPushes({
      messages: async (ids) => {
        asked.push([...ids]);
        return [row('7', '1', '2')]; // 8 was recalled: not in history
      },
      push: async (items) => void pushed.push(...items),
    });
    await push([
      { user_id: '2', device_id: 'phone', message_id: '7' },
      { user_id: '1', device_id: 'desktop', message_id: '7' }, // the sender's own other device
      { user_id: '2', device_id: 'tablet', message_id: '8' },
    ]);
    assert.deepEqual(asked, [['7', '8']]);
    assert.deepEqual(pushed, [
      { user_id: '2', device_id: 'phone', message: { message_id: '7', seq: 1, sender_id: '1', receiver_id: '2', group_id: null, content: 'hi', message_type: 'text', created_at: 5, client_msg_id: null } },
    ]);
  });
});
