import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AcceptedMessage } from '@im/contracts';
import { createMetrics } from '@im/metrics';
import type { OfflineRow } from '@im/db';
import type { Unacked } from '@im/redis';
import { batchItem, silentLog } from '@im/worker-kit/testing';
import { handleDeliver, type DeliverDeps } from './deliver.handler';

const message = (id: number, receiver = '2'): AcceptedMessage => ({
  message_id: String(1000 + id),
  seq: id,
  sender_id: '1',
  receiver_id: receiver,
  group_id: null,
  content: `m${id}`,
  message_type: 'text',
  created_at: 1_700_000_000_000,
  client_msg_id: null,
});

/**
 * Deps from plain objects: who is online (a user, or `user/device`), each user's registered
 * devices (none: the `default` device), who hears a publish, which ids are recalled.
 */
function world(o: { online?: string[]; devices?: Record<string, string[]>; deaf?: string[]; recalled?: string[]; backlog?: boolean; publishFails?: boolean; pushFails?: boolean } = {}) {
  const published: [string, string][] = [];
  const pushed: { user_id: string; device_id: string; message_id: string }[] = [];
  const offline: OfflineRow[] = [];
  const tracked: Unacked[] = [];
  const done: Unacked[] = [];
  const metrics = createMetrics('worker-delivery');
  const deps: DeliverDeps = {
    presence: {
      lookup: async (ids) => {
        const out = new Map<string, Map<string, string>>();
        for (const entry of o.online ?? []) {
          const [user, device = 'default'] = entry.split('/') as [string, string?];
          if (!ids.includes(user)) continue;
          if (!out.has(user)) out.set(user, new Map());
          out.get(user)!.set(device, `gw-${device}`);
        }
        return out;
      },
      set: async () => true,
      clear: async () => [],
      countOnline: async () => 0,
    },
    devices: async (ids) => new Map(Object.entries(o.devices ?? {}).filter(([u]) => ids.includes(u))),
    publish: async (pairs) => {
      if (o.publishFails) throw new Error('publish failed');
      published.push(...pairs.map(([c, p]) => [c, p] as [string, string]));
      return pairs.map(([c]) => ((o.deaf ?? []).some((u) => c === `user:${u}`) ? 0 : 1));
    },
    recalled: async (ids) => new Set(ids.filter((id) => (o.recalled ?? []).includes(id))),
    unacked: { track: async (items) => void tracked.push(...items), done: async (items) => void done.push(...items) },
    storeOffline: async (rows) => void offline.push(...rows),
    push: async (items) => {
      if (o.pushFails) throw new Error('push queue unavailable');
      pushed.push(...items.map((i) => ({ user_id: i.user_id, device_id: i.device_id, message_id: i.message.message_id })));
    },
    atBacklogBound: () => o.backlog ?? false,
    publishAttempts: 3,
    metrics,
    now: () => 1_700_000_000_500,
  };
  const routes = async () => Object.fromEntries((await metrics.deliveries.get()).values.filter((v) => v.value > 0).map((v) => [v.labels.route, v.value]));
  return { deps, published, offline, tracked, done, routes, pushed, metrics };
}

const deliver = (items: ReturnType<typeof batchItem<'im.deliver'>>[], deps: DeliverDeps) => handleDeliver(items, { deps, log: silentLog });
const job = (id: string, ...pairs: [AcceptedMessage, string[]][]) => batchItem<'im.deliver'>(id, { items: pairs.map(([message, receivers]) => ({ message, receivers })) });

describe('handleDeliver (unit)', () => {
  it('hands every device a delivery ended offline on (no presence, or a publish nobody heard) to push, none that went online, and none of the sender', async () => {
    const w = world({ online: ['2', '4', '5/desktop'], deaf: ['4'], devices: { '5': ['desktop', 'phone'], '1': ['default', 'tablet'] } });
    await deliver([job('p1', [message(1), ['2', '3', '4', '5', '1']])], w.deps);
    assert.deepEqual(
      w.pushed.sort((a, b) => `${a.user_id}/${a.device_id}`.localeCompare(`${b.user_id}/${b.device_id}`)),
      [
        { user_id: '3', device_id: 'default', message_id: '1001' },
        { user_id: '4', device_id: 'default', message_id: '1001' },
        { user_id: '5', device_id: 'phone', message_id: '1001' },
      ],
    );
    assert.ok(w.offline.some((r) => r.user_id === '1' && r.device_id === 'tablet'), "the sender's tablet has it in its sync, without a push");
  });

  it('completes the delivery when the push queue refuses: stored offline, the failure counted', async () => {
    const w = world({ pushFails: true });
    await deliver([job('p1', [message(1), ['3']])], w.deps);
    assert.deepEqual(w.offline, [{ user_id: '3', device_id: 'default', message_id: '1001', origin_device: null }]);
    assert.deepEqual(await w.routes(), { offline: 1 });
    const errors = (await w.metrics.errors.get()).values.find((v) => v.labels.component === 'push_enqueue');
    assert.equal(errors?.value, 1);
  });

  it('publishes to online receivers, stores the others offline, and tracks each publish until acknowledged', async () => {
    const w = world({ online: ['2'] });
    await deliver([job('p1', [message(1), ['2', '3']])], w.deps);
    assert.deepEqual(w.published.map(([c, p]) => [c, JSON.parse(p).message_id]), [['user:2', '1001']]);
    assert.deepEqual(w.offline, [{ user_id: '3', device_id: 'default', message_id: '1001', origin_device: null }]);
    assert.deepEqual(w.tracked, [{ user_id: '2', device_id: 'default', message_id: '1001' }]);
    assert.deepEqual(await w.routes(), { online: 1, offline: 1 });
  });

  it("publishes once to a user with an online device, waits for each online device's ack, and stores the message for each device not online", async () => {
    const w = world({ devices: { '2': ['desktop', 'phone', 'web'] }, online: ['2/desktop', '2/web'] });
    await deliver([job('p1', [message(1), ['2']])], w.deps);
    assert.deepEqual(w.published.map(([c]) => c), ['user:2'], 'one PUBLISH, heard by every gateway of the user');
    assert.deepEqual(w.tracked.map((t) => t.device_id).sort(), ['desktop', 'web']);
    assert.deepEqual(w.offline, [{ user_id: '2', device_id: 'phone', message_id: '1001', origin_device: null }]);
    assert.deepEqual(await w.routes(), { online: 2, offline: 1 });
  });

  it("sends the sender's message to the sender's other devices, never back to the device it came from", async () => {
    const sent = { ...message(1), sender_device_id: 'phone' };
    const w = world({ devices: { '1': ['phone', 'desktop', 'tablet'] }, online: ['1/phone', '1/desktop'] });
    await deliver([job('p1', [sent, ['2', '1']])], w.deps);
    assert.deepEqual(w.published.map(([c, p]) => [c, JSON.parse(p).sender_device_id]), [['user:1', 'phone']], 'on user:{sender}, naming the origin device');
    assert.deepEqual(w.tracked.map((t) => `${t.user_id}/${t.device_id}`), ['1/desktop']);
    assert.deepEqual(w.offline.map((r) => `${r.user_id}/${r.device_id}`).sort(), ['1/tablet', '2/default']);
    // A sender whose only device sent it (or a send without device_id from the `default` device): nothing for the sender.
    const alone = world({ online: ['1'] });
    await deliver([job('p1', [message(2), ['2', '1']])], alone.deps);
    assert.deepEqual(alone.published, []);
    assert.deepEqual(alone.offline.map((r) => r.user_id), ['2']);
  });

  it('stores a publish nobody heard offline and stops waiting for its ack', async () => {
    const w = world({ online: ['2'], deaf: ['2'] });
    await deliver([job('p1', [message(1), ['2']])], w.deps);
    assert.deepEqual(w.offline, [{ user_id: '2', device_id: 'default', message_id: '1001', origin_device: null }]);
    assert.deepEqual(w.done, [{ user_id: '2', device_id: 'default', message_id: '1001' }]);
    assert.deepEqual(await w.routes(), { fallback: 1 });
  });

  it('skips recalled messages entirely', async () => {
    const w = world({ online: ['2'] });
    await deliver([job('p1', [message(1), ['2']], [message(2), ['3']])], w.deps);
    const again = world({ online: ['2'], recalled: ['1001', '1002'] });
    await deliver([job('p1', [message(1), ['2']], [message(2), ['3']])], again.deps);
    assert.equal(w.published.length + w.offline.length, 2, 'without a recall both go');
    assert.equal(again.published.length + again.offline.length, 0, 'recalled: neither');
  });

  it('stores everything offline without publishing past queue_size, and on attempts past publishAttempts', async () => {
    const backlog = world({ online: ['2'], backlog: true });
    await deliver([job('p1', [message(1), ['2']])], backlog.deps);
    assert.deepEqual([backlog.published.length, backlog.offline.length], [0, 1]);
    const late = world({ online: ['2'] });
    await deliver([batchItem<'im.deliver'>('p2', { items: [{ message: message(2), receivers: ['2'] }] }, 4)], late.deps);
    assert.deepEqual([late.published.length, late.offline.length], [0, 1]);
    assert.deepEqual(await late.routes(), { fallback: 1 });
  });

  it('throws when a publish fails, so the round is retried; the offline rows stored meanwhile are those of the devices not online', async () => {
    const w = world({ online: ['2'], publishFails: true });
    await assert.rejects(deliver([job('p1', [message(1), ['2', '3']])], w.deps), /publish failed/);
    // 3 is offline: its row is stored while 2's publish runs (a retry's INSERT IGNORE adds none);
    // 2 was online: no row for it, its publish is retried.
    assert.deepEqual(w.offline.map((r) => r.user_id), ['3']);
  });

  it('stores the offline rows while it publishes, not after', async () => {
    let publishing = false;
    let storedDuringPublish = false;
    const w = world({ online: ['2'] });
    const publish = w.deps.publish;
    const storeOffline = w.deps.storeOffline;
    const deps = {
      ...w.deps,
      publish: async (pairs: Parameters<typeof publish>[0]) => {
        publishing = true;
        await new Promise((r) => setTimeout(r, 20));
        publishing = false;
        return publish(pairs);
      },
      storeOffline: async (rows: Parameters<typeof storeOffline>[0]) => {
        await new Promise((r) => setTimeout(r, 5));
        storedDuringPublish ||= publishing;
        return storeOffline(rows);
      },
    };
    await deliver([job('p1', [message(1), ['2', '3']])], deps);
    assert.ok(storedDuringPublish, 'the row for 3 was written while the publish to 2 was in flight');
    assert.deepEqual(w.offline.map((r) => r.user_id), ['3']);
  });
});
