import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AcceptedMessage } from '@im/contracts';
import { createMetrics } from '@im/metrics';
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

/** Deps from plain objects: who is online, who hears a publish, which ids are recalled. */
function world(o: { online?: string[]; deaf?: string[]; recalled?: string[]; backlog?: boolean; publishFails?: boolean; pushFails?: boolean } = {}) {
  const published: [string, string][] = [];
  const pushed: { user_id: string; device_id: string; message_id: string }[] = [];
  const offline: { user_id: string; message_id: string }[] = [];
  const tracked: Unacked[] = [];
  const done: Unacked[] = [];
  const metrics = createMetrics('worker-delivery');
  const deps: DeliverDeps = {
    presence: {
      lookup: async (ids) => new Map(ids.filter((u) => (o.online ?? []).includes(u)).map((u) => [u, 'gw-1'])),
      set: async () => {},
      clear: async () => true,
    },
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
  it('hands every delivery that ended offline (no presence, or a publish nobody heard) to push, for the default device, and none that went online', async () => {
    const w = world({ online: ['2', '4'], deaf: ['4'] });
    await deliver([job('p1', [message(1), ['2', '3', '4']])], w.deps);
    assert.deepEqual(
      w.pushed.sort((a, b) => a.user_id.localeCompare(b.user_id)),
      [
        { user_id: '3', device_id: 'default', message_id: '1001' },
        { user_id: '4', device_id: 'default', message_id: '1001' },
      ],
    );
  });

  it('completes the delivery when the push queue refuses: stored offline, the failure counted', async () => {
    const w = world({ pushFails: true });
    await deliver([job('p1', [message(1), ['3']])], w.deps);
    assert.deepEqual(w.offline, [{ user_id: '3', message_id: '1001' }]);
    assert.deepEqual(await w.routes(), { offline: 1 });
    const errors = (await w.metrics.errors.get()).values.find((v) => v.labels.component === 'push_enqueue');
    assert.equal(errors?.value, 1);
  });

  it('publishes to online receivers, stores the others offline, and tracks each publish until acknowledged', async () => {
    const w = world({ online: ['2'] });
    await deliver([job('p1', [message(1), ['2', '3']])], w.deps);
    assert.deepEqual(w.published.map(([c, p]) => [c, JSON.parse(p).message_id]), [['user:2', '1001']]);
    assert.deepEqual(w.offline, [{ user_id: '3', message_id: '1001' }]);
    assert.deepEqual(w.tracked, [{ user_id: '2', message_id: '1001' }]);
    assert.deepEqual(await w.routes(), { online: 1, offline: 1 });
  });

  it('stores a publish nobody heard offline and stops waiting for its ack', async () => {
    const w = world({ online: ['2'], deaf: ['2'] });
    await deliver([job('p1', [message(1), ['2']])], w.deps);
    assert.deepEqual(w.offline, [{ user_id: '2', message_id: '1001' }]);
    assert.deepEqual(w.done, [{ user_id: '2', message_id: '1001' }]);
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

  it('throws when a publish fails, so the round is retried, and has stored nothing offline by then', async () => {
    const w = world({ online: ['2'], publishFails: true });
    await assert.rejects(deliver([job('p1', [message(1), ['2', '3']])], w.deps), /publish failed/);
    assert.deepEqual(w.offline, []);
  });
});
