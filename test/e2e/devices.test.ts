import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import type { RowDataPacket } from 'mysql2/promise';
import { loadConfig } from '@im/config';
import { devicesRepository } from '@im/db';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import { handleSweep, sweepDeps } from '../../apps/worker-cleaner/src/sweep.handler';
import type { TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testServers } from '../support/env';
import type { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { suiteFleet, type SuiteFleet } from '../support/suite-fleet';
import { waitFor } from '../support/wait';

/**
 * Several devices per user, end to end: bob holds a phone on one gateway and a desktop and a
 * browser on another; the phone goes offline while the others receive online, then catches up
 * by its own sync; answers of the sync are lost and repeated; a read and a recall on one device
 * reach the others; what bob sends from one device appears on his others; the device limit; a
 * new device's window; a device forgotten after the inactive window.
 */
describe('devices and per-device sync', () => {
  let suite: SuiteFleet;
  let db: TestDatabase;
  let fleet: Fleet;
  let gwA: GatewaySimulator;
  let gwB: GatewaySimulator;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const [alice, bob, carol, dave] = [id(1), id(2), id(3), id(4)];
  const sentToBob: { message_id: string; seq: number }[] = [];

  type SyncPage = { items: any[]; cursor: string | null; has_more: boolean };
  const sync = async (user: string, device: string, cursor: string | null, limit = 100): Promise<SyncPage> => {
    const r = await fleet.api.get(`/v1/users/${user}/devices/${device}/sync?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  /** Every item of a device's sync, page by page, each page confirmed by the next call. */
  const drain = async (user: string, device: string, limit = 100): Promise<any[]> => {
    const all: any[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const page: SyncPage = await sync(user, device, cursor, limit);
      all.push(...page.items);
      if (page.cursor !== null) cursor = page.cursor;
      if (!page.has_more) {
        if (cursor !== null) await sync(user, device, cursor, 1); // confirms the last page
        return all;
      }
    }
    throw new Error('the sync did not end');
  };
  const rows = async (user: string, device: string) => {
    const [r] = await db.pool.query<RowDataPacket[]>('SELECT kind, message_id FROM offline_message WHERE user_id = ? AND device_id = ? ORDER BY message_id', [user, device]);
    return r.map((x) => ({ kind: String(x.kind), id: String(x.message_id) }));
  };

  before(async () => {
    suite = await suiteFleet(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
    ({ db, fleet } = suite);
    for (const u of [alice, bob, carol, dave]) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: `u${u.slice(-1)}` })).status, 204);
    gwA = new GatewaySimulator(fleet.api, 'gw-a');
    gwB = new GatewaySimulator(fleet.api, 'gw-b');
    await gwA.connectDevice(bob, 'phone', 'ios');
    await gwB.connectDevice(bob, 'desktop', 'desktop');
    await gwB.connectDevice(bob, 'web', 'web');
    await gwA.connect([alice]);
  });

  after(async () => {
    await gwA?.close();
    await gwB?.close();
    await suite?.close();
  });

  it('lists the devices with their platform and where each is online', async () => {
    const r = await fleet.api.get(`/v1/users/${bob}/devices`);
    assert.equal(r.status, 200);
    const devices = Object.fromEntries(r.body.devices.map((d: any) => [d.device_id, [d.platform, d.online, d.gateway_id]]));
    assert.deepEqual(devices, { desktop: ['desktop', true, 'gw-b'], phone: ['ios', true, 'gw-a'], web: ['web', true, 'gw-b'] });
    assert.equal((await fleet.api.get(`/v1/users/${id(99)}/devices`)).status, 404);
  });

  it('keeps what the offline phone missed in its own sync while the desktop receives online, and returns it once, in order', async () => {
    await gwA.disconnectDevice(bob, 'phone');
    const before = gwB.for(bob).length;
    for (let i = 1; i <= 7; i++) {
      const r = await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: bob, content: `m${i}`, client_msg_id: `d-${i}` });
      assert.equal(r.status, 202);
      sentToBob.push({ message_id: r.body.message_id, seq: r.body.seq });
    }
    // Online: one PUBLISH per message on user:{bob}, heard by gw-b (desktop and web), not by gw-a.
    await gwB.waitForCount(bob, before + 7);
    assert.equal(gwA.for(bob).length, 0, 'gw-a holds no online device of bob');
    await waitFor('7 rows in the phone sync', async () => ((await rows(bob, 'phone')).length === 7 ? true : undefined));
    // The desktop and web acknowledge delivery: their publishes stop waiting; nothing is stored for them.
    const ids = sentToBob.map((m) => m.message_id);
    assert.deepEqual((await gwB.ack(bob, ids, 'delivered', 'desktop')).body, { updated: 7 });
    assert.deepEqual((await gwB.ack(bob, ids, 'delivered', 'web')).body, { updated: 7 });
    assert.deepEqual(await rows(bob, 'desktop'), []);

    // Lost answers: the first page asked twice is the same page, and nothing was deleted by asking.
    const p1 = await sync(bob, 'phone', null, 3);
    const again = await sync(bob, 'phone', null, 3);
    assert.deepEqual(again, p1);
    assert.deepEqual(p1.items.map((i) => i.message_id), ids.slice(0, 3));
    assert.ok(p1.items.every((i) => i.kind === 'message' && i.sender_id === alice));
    // Confirming page 1 returns page 2; a repeat of that (lost) answer returns page 2 again.
    const p2 = await sync(bob, 'phone', p1.cursor, 3);
    assert.deepEqual(await sync(bob, 'phone', p1.cursor, 3), p2);
    const p3 = await sync(bob, 'phone', p2.cursor, 3);
    assert.equal(p3.has_more, false);
    assert.deepEqual([...p1.items, ...p2.items, ...p3.items].map((i) => i.message_id), ids, 'every message once, in order');
    assert.deepEqual([...p1.items, ...p2.items, ...p3.items].map((i) => i.seq), sentToBob.map((m) => m.seq));
    const done = await sync(bob, 'phone', p3.cursor, 3);
    assert.deepEqual(done, { items: [], cursor: null, has_more: false });
    assert.deepEqual(await rows(bob, 'phone'), [], 'confirmed pages are gone');
  });

  it('sends what bob types on the desktop to his phone and web, never back to the desktop', async () => {
    const before = gwB.for(bob).length;
    const r = await fleet.api.post('/v1/messages', { sender_id: bob, receiver_id: alice, content: 'from the desktop', device_id: 'desktop' });
    assert.equal(r.status, 202);
    const [event] = (await gwB.waitForCount(bob, before + 1)).slice(before);
    assert.equal(event.message_id, r.body.message_id);
    assert.equal(event.sender_id, bob);
    assert.equal(event.sender_device_id, 'desktop', 'the gateway skips the device it came from');
    await gwA.waitForCount(alice, 1);
    const phone = await waitFor('the sent message in the phone sync', async () => {
      const items = (await sync(bob, 'phone', null)).items;
      return items.length > 0 ? items : undefined;
    });
    assert.deepEqual(
      phone.map((i) => [i.kind, i.message_id, i.origin_device_id]),
      [['message', r.body.message_id, 'desktop']],
    );
    assert.deepEqual(await rows(bob, 'desktop'), [], 'nothing stored for the device it came from');
    await drain(bob, 'phone');
  });

  it('tells the other devices about a read on one (online and in their sync)', async () => {
    const before = gwB.for(bob).length;
    const last = sentToBob.at(-1)!;
    assert.deepEqual((await gwB.ack(bob, [last.message_id], 'read', 'desktop')).body, { updated: 1 });
    const events = (await gwB.waitForCount(bob, before + 1)).slice(before);
    assert.deepEqual(
      events.map((e) => [e.event, e.user_id, e.seq, e.device_id]),
      [['read', bob, last.seq, 'desktop']],
    );
    const items = await drain(bob, 'phone');
    assert.deepEqual(
      items.map((i) => [i.kind, i.conversation, i.seq, i.origin_device_id]),
      [['read', events[0].conversation, last.seq, 'desktop']],
    );
    assert.deepEqual(await rows(bob, 'desktop'), [], 'not in the sync of the device that read');
    assert.equal((await rows(bob, 'web')).filter((r) => r.kind === 'read').length, 1, 'the web has it too');
    await drain(bob, 'web');
  });

  it('tells every device of both users about a recall', async () => {
    await gwA.disconnectDevice(bob, 'phone');
    const r = await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: bob, content: 'oops' });
    assert.equal(r.status, 202);
    await waitFor('the message in the phone sync', async () => ((await rows(bob, 'phone')).some((x) => x.id === r.body.message_id) ? true : undefined));
    // The desktop saw it (online); the phone did not yet: the recall deletes the phone's row, and
    // both learn of the recall in their sync.
    const before = gwB.for(bob).length;
    assert.equal((await fleet.api.call('DELETE', `/v1/messages/${r.body.message_id}?user_id=${alice}`)).status, 200);
    const events = await waitFor('the recall event on user:bob', () => {
      const recalls = gwB.for(bob).slice(before).filter((e) => e.event === 'recall');
      return recalls.length > 0 ? recalls : undefined;
    });
    assert.ok(events.length >= 1 && events[0].message_id === r.body.message_id);
    const items = await drain(bob, 'phone');
    assert.deepEqual(items.map((i) => [i.kind, i.message_id]), [['recall', r.body.message_id]], 'the recalled message itself is gone from the phone');
    assert.deepEqual((await drain(bob, 'desktop')).map((i) => [i.kind, i.message_id]), [['recall', r.body.message_id]]);
  });

  it('starts a new device from the window of the user history, and refuses a device beyond the limit', async () => {
    const tablet = await drain(bob, 'tablet');
    const messages = tablet.filter((i) => i.kind === 'message').map((i) => i.message_id);
    for (const m of sentToBob) assert.ok(messages.includes(m.message_id), `message ${m.message_id} of the last days is in the new device's sync`);
    assert.deepEqual(messages, [...messages].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)), 'in order');
    // devices.max_per_user (10): carol may register 10, the 11th is refused and registers nothing.
    for (let i = 0; i < 10; i++) await gwA.connectDevice(carol, `dev-${i}`);
    const refused = await fleet.api.put(`/v1/presence/${carol}`, { gateway_id: 'gw-a', device_id: 'dev-10' });
    assert.equal(refused.status, 403);
    assert.deepEqual([refused.body.error.code, refused.body.error.reason], ['PERMISSION_DENIED', 'DEVICE_LIMIT']);
    assert.match(refused.body.error.message, /max_per_user/);
    assert.equal((await fleet.api.get(`/v1/users/${carol}/devices`)).body.devices.length, 10);
    assert.equal((await fleet.api.del(`/v1/users/${carol}/devices/dev-0`)).status, 204);
    assert.equal((await fleet.api.put(`/v1/presence/${carol}`, { gateway_id: 'gw-a', device_id: 'dev-10' })).status, 204, 'room again once one is removed');
    assert.equal((await fleet.api.del(`/v1/users/${carol}/devices/dev-0`)).status, 404);
  });

  it('refuses bad device ids, platforms and cursors, changing nothing', async () => {
    const bad = [
      fleet.api.put(`/v1/presence/${dave}`, { gateway_id: 'gw-a', device_id: 'a|b' }),
      fleet.api.put(`/v1/presence/${dave}`, { gateway_id: 'gw-a', device_id: '' }),
      fleet.api.put(`/v1/presence/${dave}`, { gateway_id: 'gw-a', device_id: 'x'.repeat(65) }),
      fleet.api.put(`/v1/presence/${dave}`, { gateway_id: 'gw-a', device_id: 'p', platform: 'symbian' }),
      fleet.api.post('/v1/messages', { sender_id: dave, receiver_id: alice, content: 'x', device_id: 'a,b' }),
      fleet.api.post('/v1/acks', { user_id: dave, message_ids: [sentToBob[0]!.message_id], status: 'read', device_id: 7 }),
      fleet.api.get(`/v1/users/${dave}/devices/phone/sync?cursor=abc`),
      fleet.api.get(`/v1/users/${dave}/devices/phone/sync?limit=0`),
      fleet.api.get(`/v1/users/${dave}/devices/a%7Cb/sync`),
    ];
    for (const r of await Promise.all(bad)) {
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
    }
    assert.deepEqual((await fleet.api.get(`/v1/users/${dave}/devices`)).body.devices, [], 'no device registered by a refused request');
    const [history] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE sender_id = ?', [dave]);
    assert.equal(Number(history[0]!.n), 0);
  });

  it('forgets a device not seen for devices.inactive_days, with its sync', async () => {
    await gwA.connectDevice(dave, 'old-phone');
    await gwA.disconnectDevice(dave, 'old-phone');
    const r = await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: dave, content: 'to the old phone' });
    assert.equal(r.status, 202);
    await waitFor('a row for the old phone', async () => ((await rows(dave, 'old-phone')).length === 1 ? true : undefined));
    // 31 days pass for this device only.
    await db.pool.query('UPDATE user_device SET last_seen_at = last_seen_at - ? WHERE user_id = ? AND device_id = ?', [31 * 86_400_000, dave, 'old-phone']);
    const metrics = createMetrics('worker-cleaner');
    await handleSweep(
      { task: 'sweep' },
      {
        deps: sweepDeps(db.pool, loadConfig({ env: { REDIS_URL: testServers().redisUrl, MYSQL_URL: db.url, IM_API_TOKENS: TEST_TOKEN } }), metrics),
        log: createLogger('devices-test', 'silent'),
        attempt: 1,
        job: { updateProgress: async () => {} } as unknown as Job,
      },
    );
    assert.deepEqual((await fleet.api.get(`/v1/users/${dave}/devices`)).body.devices, []);
    assert.deepEqual(await rows(dave, 'old-phone'), []);
    assert.ok((await devicesRepository(db.pool).list(bob)).length >= 3, 'devices seen lately stay');
    assert.equal((await metrics.devicesForgotten.get()).values[0]?.value, 1);
  });
});
