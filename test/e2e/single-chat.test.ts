import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import type { TestDatabase } from '../support/db';
import { randomUserBase, testRedis, topology } from '../support/env';
import type { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { suiteFleet, type SuiteFleet } from '../support/suite-fleet';
import { waitFor } from '../support/wait';

describe('single chat end to end (real processes, Redis, MariaDB)', () => {
  let suite: SuiteFleet;
  let db: TestDatabase;
  let fleet: Fleet;
  let gateway: GatewaySimulator;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const [alice, bob, carol, dave] = [id(1), id(2), id(3), id(4)];

  before(async () => {
    suite = await suiteFleet(['ingest-api', 'worker-persist', 'worker-delivery']);
    ({ db, fleet } = suite);
    for (const [u, name] of [[alice, 'alice'], [bob, 'bob 鲍勃'], [carol, 'carol'], [dave, 'dave']] as const) {
      assert.equal((await fleet.client.PUT('/v1/users/{user_id}', { params: { path: { user_id: u } }, body: { name } })).response.status, 204);
    }
    gateway = new GatewaySimulator(fleet.api);
  });

  after(async () => {
    await gateway?.close();
    await suite?.close();
  });

  async function offlineCount(userId: string): Promise<number> {
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message WHERE user_id = ?', [userId]);
    return Number(rows[0]!.n);
  }

  it('publishes to an online receiver with the contract payload, byte-exact content and string ids', async () => {
    await gateway.connect([bob]);
    const content = '你好，世界 👋🏽 e\u0301 🇨🇳 𝄞';
    const { data: sent, response } = await fleet.client.POST('/v1/messages', { body: { sender_id: alice, receiver_id: bob, content, client_msg_id: 'c-1' } });
    assert.equal(response.status, 202);
    assert.ok(sent);
    assert.match(sent.message_id, /^\d+$/);
    assert.equal(sent.seq, 1);
    assert.equal(typeof sent.timestamp, 'number');

    const [got] = await gateway.waitForCount(bob, 1);
    assert.deepEqual(got, {
      event: 'message',
      message_id: sent.message_id,
      seq: 1,
      sender_id: alice,
      receiver_id: bob,
      group_id: null,
      content,
      message_type: 'text',
      timestamp: sent.timestamp,
      status: 'sent',
      client_msg_id: 'c-1',
      sender_device_id: null,
    });
    const raw = gateway.received.find((r) => r.payload.message_id === sent.message_id)!.raw;
    assert.ok(raw.includes(`"sender_id":"${alice}"`), 'ids travel as strings on Pub/Sub');

    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT content, sender_id, receiver_id, HEX(content) AS hex FROM message_history WHERE message_id = ?', [
      sent.message_id,
    ]);
    assert.equal(rows[0]!.content, content);
    assert.equal(rows[0]!.hex, Buffer.from(content, 'utf8').toString('hex').toUpperCase());
    assert.equal(String(rows[0]!.sender_id), alice);
    assert.equal(await offlineCount(bob), 0);

    const ack = await gateway.ack(bob, [sent.message_id]);
    assert.deepEqual(ack.body, { updated: 1 });
    const [cursor] = await db.pool.query<RowDataPacket[]>('SELECT delivered_seq, read_seq FROM conversation_cursor WHERE user_id = ?', [bob]);
    assert.equal(Number(cursor[0]!.delivered_seq), 1);
    assert.equal(Number(cursor[0]!.read_seq), 0);
  });

  it('stores messages for an offline receiver and pages them out by cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await fleet.client.POST('/v1/messages', { body: { sender_id: alice, receiver_id: carol, content: `m${i} ✓`, message_type: i === 4 ? 'image' : 'text' } });
      assert.equal(r.response.status, 202);
      assert.equal(r.data!.seq, i + 1);
      ids.push(r.data!.message_id);
    }
    await waitFor('5 offline rows for carol', async () => (await offlineCount(carol)) === 5);

    const pull = async (query: { limit?: number; last_message_id?: string }) => {
      const r = await fleet.client.GET('/v1/users/{user_id}/offline-messages', { params: { path: { user_id: carol }, query } });
      assert.equal(r.response.status, 200);
      return r.data!;
    };
    const p1 = await pull({ limit: 2 });
    assert.equal(p1.has_more, true);
    assert.deepEqual(p1.messages.map((m) => m.message_id), ids.slice(0, 2));
    assert.deepEqual(p1.messages[0], {
      id: ids[0],
      message_id: ids[0],
      seq: 1,
      sender_id: alice,
      sender_name: 'alice',
      group_id: null,
      group_name: null,
      content: 'm0 ✓',
      message_type: 'text',
      created_at: p1.messages[0]!.created_at,
    });

    // Asking again without a cursor returns the same page: nothing is lost if a response goes missing.
    const again = await pull({ limit: 2 });
    assert.deepEqual(again.messages.map((m) => m.message_id), ids.slice(0, 2));

    const p2 = await pull({ limit: 2, last_message_id: ids[1] });
    assert.deepEqual(p2.messages.map((m) => m.message_id), ids.slice(2, 4));
    assert.equal(p2.has_more, true);
    assert.equal(await offlineCount(carol), 3, 'rows up to the cursor are deleted');

    const p3 = await pull({ limit: 2, last_message_id: ids[3] });
    assert.deepEqual(p3.messages.map((m) => m.message_id), [ids[4]]);
    assert.equal(p3.messages[0]!.message_type, 'image');
    assert.equal(p3.has_more, false);

    const done = await pull({ last_message_id: ids[4] });
    assert.deepEqual(done, { messages: [], has_more: false });
    assert.equal(await offlineCount(carol), 0);
  });

  it('stores offline when the presence key is stale and no gateway subscribes', async () => {
    const redis = testRedis();
    await redis.set(`im:presence:${dave}`, 'gw-gone', 'EX', 60);
    redis.disconnect();
    const r = await fleet.client.POST('/v1/messages', { body: { sender_id: alice, receiver_id: dave, content: 'anyone there?' } });
    assert.equal(r.response.status, 202);
    // The PUBLISH count says nobody heard it, and the row is stored at once; except with classic
    // Pub/Sub on a cluster, where a count covers one node only: the publish is taken as heard, and
    // stored offline once nobody acknowledged it within ack_timeout_s (30 s, the default).
    const { cluster, pubsub } = topology();
    await waitFor('offline row for dave', async () => (await offlineCount(dave)) === 1, cluster && pubsub === 'classic' ? 45_000 : 15_000);
    const pulled = await fleet.client.GET('/v1/users/{user_id}/offline-messages', { params: { path: { user_id: dave } } });
    assert.equal(pulled.data!.messages[0]!.message_id, r.data!.message_id);
    assert.equal(gateway.for(dave).length, 0);
  });

  it('keeps a newer connection when an older gateway reports its disconnect late', async () => {
    const eve = id(5);
    assert.equal((await fleet.client.PUT('/v1/users/{user_id}', { params: { path: { user_id: eve } }, body: { name: 'eve' } })).response.status, 204);
    const gwA = new GatewaySimulator(fleet.api, 'gw-a');
    const gwB = new GatewaySimulator(fleet.api, 'gw-b');
    try {
      await gwA.connect([eve]);
      // eve moves to gateway B; gateway A drops its socket and its DELETE arrives after B's PUT.
      await gwB.connect([eve]);
      await gwA.close();
      const clear = (gateway_id?: string) => fleet.client.DELETE('/v1/presence/{user_id}', { params: { path: { user_id: eve }, query: gateway_id === undefined ? {} : { gateway_id } } });
      assert.equal((await clear('gw-a')).response.status, 204);
      const sent = await fleet.client.POST('/v1/messages', { body: { sender_id: alice, receiver_id: eve, content: 'still connected' } });
      assert.equal(sent.response.status, 202);
      const [got] = await gwB.waitForCount(eve, 1);
      assert.equal(got.message_id, sent.data!.message_id);
      assert.equal(await offlineCount(eve), 0, 'not stored offline: eve is online on gateway B');
      // B's own disconnect removes it; without gateway_id a DELETE removes whatever is there.
      assert.equal((await clear('gw-b')).response.status, 204);
      const redis = testRedis();
      assert.equal(await redis.exists(`im:presence:${eve}`), 0);
      await redis.set(`im:presence:${eve}`, 'gw-c', 'EX', 60);
      assert.equal((await clear()).response.status, 204);
      assert.equal(await redis.exists(`im:presence:${eve}`), 0);
      redis.disconnect();
      const bad = await clear('gw a');
      assert.equal(bad.response.status, 400);
      assert.match(bad.error!.error.message, /gateway_id/);
    } finally {
      await gwA.close();
      await gwB.close();
    }
  });

  it('answers a repeated client_msg_id with the first result and stores one row', async () => {
    const body = { sender_id: alice, receiver_id: carol, content: 'only once', client_msg_id: 'dup-42' };
    const first = await fleet.client.POST('/v1/messages', { body });
    const second = await fleet.client.POST('/v1/messages', { body });
    const third = await fleet.client.POST('/v1/messages/batch', { body: { messages: [body] } });
    assert.equal(first.response.status, 202);
    assert.equal(second.response.status, 202);
    assert.deepEqual(second.data, first.data);
    assert.deepEqual(third.data!.results[0], first.data);
    await waitFor('the offline row', async () => (await offlineCount(carol)) >= 1);
    const [rows] = await db.pool.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM message_history WHERE sender_id = ? AND client_msg_id = 'dup-42'", [alice]);
    assert.equal(Number(rows[0]!.n), 1);
    // The same client_msg_id from another sender is another message.
    const other = await fleet.client.POST('/v1/messages', { body: { ...body, sender_id: dave } });
    assert.notEqual(other.data!.message_id, first.data!.message_id);
  });

  it('keeps seq per conversation, in request order within a batch', async () => {
    const messages = Array.from({ length: 20 }, (_, i) => ({ sender_id: i % 2 ? dave : bob, receiver_id: i % 2 ? bob : dave, content: `n${i}` }));
    const r = await fleet.client.POST('/v1/messages/batch', { body: { messages } });
    assert.equal(r.response.status, 200);
    const sent = r.data!.results.map((x) => {
      assert.ok('seq' in x, JSON.stringify(x));
      return x;
    });
    assert.deepEqual(sent.map((x) => x.seq), Array.from({ length: 20 }, (_, i) => i + 1), 'bob and dave share one conversation');
    const ids = sent.map((x) => BigInt(x.message_id));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, 'message ids increase');
  });
});
