import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConversationsRepository, CursorsRepository, MessagesRepository, OfflineRepository, OfflineRow } from '@im/db';
import { createMetrics } from '@im/metrics';
import type { Publisher } from '@im/redis';
import { inboxService } from './inbox.service';

const [alice, bob] = ['11', '12'];
const conversation = `s:${alice}:${bob}`;

/** The inbox over plain fakes: bob received message 900 (seq 7) from alice, and has these devices. */
function inbox(o: { devices: string[]; notifyPeer: boolean }) {
  const rows: OfflineRow[] = [];
  const published: [string, any][] = [];
  const acked: [string, string, readonly string[]][] = [];
  let ids = 5000;
  const s = inboxService({
    offline: { insertMany: async (r: readonly OfflineRow[]) => void rows.push(...r) } as unknown as OfflineRepository,
    messages: {
      findRefs: async (m: readonly string[]) =>
        m.includes('900') ? [{ message_id: '900', conversation, seq: 7, sender_id: alice, receiver_id: bob, group_id: null }] : [],
    } as unknown as MessagesRepository,
    cursors: { advance: async () => 1 } as unknown as CursorsRepository,
    conversations: { advanceBest: async () => {} } as unknown as ConversationsRepository,
    members: { isMember: async () => false },
    unacked: { acked: async (u: string, d: string, m: readonly string[]) => void acked.push([u, d, m]) },
    devices: { ofUsers: async () => new Map([[bob, o.devices]]) },
    publisher: {
      publishMany: async (pairs: readonly (readonly [string, string])[]) => {
        for (const [c, p] of pairs) published.push([c, JSON.parse(p)]);
        return pairs.map(() => 1);
      },
    } as unknown as Publisher,
    nextEventId: () => String(ids++),
    notifyPeer: o.notifyPeer,
    metrics: createMetrics('ingest-api'),
    assertUser: async () => {},
  });
  return { s, rows, published, acked };
}

describe('acks across devices (unit)', () => {
  it("a read on one device reaches the user's other devices, online and in their sync, not the default device's", async () => {
    const { s, rows, published, acked } = inbox({ devices: ['default', 'desktop', 'phone', 'web'], notifyPeer: false });
    assert.deepEqual(await s.ack(bob, ['900'], 'read', 'phone'), { updated: 1 });
    assert.deepEqual(acked, [[bob, 'phone', ['900']]], "the phone's publish stops waiting for its ack");
    assert.deepEqual(
      rows.map((r) => [r.device_id, r.kind, r.conversation, r.seq, r.origin_device]),
      [
        ['desktop', 'read', conversation, 7, 'phone'],
        ['web', 'read', conversation, 7, 'phone'],
      ],
    );
    assert.equal(new Set(rows.map((r) => r.message_id)).size, 1, 'one event id for the event, in every device');
    assert.deepEqual(published.map(([c, e]) => [c, e.event, e.seq, e.device_id]), [[`user:${bob}`, 'read', 7, 'phone']]);
  });

  it("sends the single chat's peer a receipt only with receipts.notify_peer", async () => {
    const off = inbox({ devices: ['phone'], notifyPeer: false });
    await off.s.ack(bob, ['900'], 'read', 'phone');
    assert.deepEqual(off.published.map(([c]) => c), [`user:${bob}`]);
    const on = inbox({ devices: ['phone'], notifyPeer: true });
    await on.s.ack(bob, ['900'], 'read', 'phone');
    assert.deepEqual(
      on.published.map(([c, e]) => [c, e.event, e.reader_id, e.seq]),
      [
        [`user:${bob}`, 'read', undefined, 7],
        [`user:${alice}`, 'receipt', bob, 7],
      ],
    );
  });

  it('a delivered ack, or a read of nothing the user received, tells no device anything', async () => {
    const { s, rows, published } = inbox({ devices: ['desktop', 'phone'], notifyPeer: true });
    await s.ack(bob, ['900'], 'delivered', 'phone');
    assert.deepEqual(await s.ack(bob, ['901'], 'read', 'phone'), { updated: 0 });
    assert.deepEqual([rows, published], [[], []]);
  });
});
