import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { offlineRepository } from '@im/db';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { waitFor } from '../support/wait';

/**
 * The offline cursor acknowledges exactly the page that ended with it: a row stored after the
 * client pulled past its id (a redelivered publish, a delivery retried, a late group chunk) is
 * returned by a later pull before any cursor can delete it, and a page whose answer was lost is
 * returned again whatever id the client passes next.
 */
describe('offline pull: no row is deleted before the page that returned it was acknowledged', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const [sender, user, other] = [id(1), id(2), id(3)];

  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url, { IM_MESSAGE_LIMITS_ACK_TIMEOUT_S: '2' }).startAll(['ingest-api', 'worker-persist', 'worker-delivery']);
    for (const u of [sender, user, other]) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: u }))?.status, 204);
  });

  after(async () => {
    await fleet?.stop();
    await db?.drop();
  });

  const offlineIds = async (u: string): Promise<string[]> => {
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT message_id FROM offline_message WHERE user_id = ? ORDER BY message_id', [u]);
    return rows.map((r) => String(r.message_id));
  };
  const pull = async (u: string, cursor?: string) => {
    const r = await fleet.api.get(`/v1/users/${u}/offline-messages?limit=100${cursor ? `&last_message_id=${cursor}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { messages: { message_id: string; content: string }[]; has_more: boolean };
  };

  it('returns a redelivered publish that was stored after a newer message was pulled', async () => {
    // The gateway holding the user receives A on user:{id}, then dies without acknowledging it.
    const gateway = new GatewaySimulator(fleet.api, 'gw-dies');
    await gateway.connect([user]);
    const a = await fleet.api.post('/v1/messages', { sender_id: sender, receiver_id: user, content: 'A, heard but never acked' });
    assert.equal(a.status, 202);
    await gateway.waitForCount(user, 1);
    await gateway.close();
    assert.equal((await fleet.api.del(`/v1/presence/${user}`)).status, 204);

    // B is sent while the user is offline, and pulled at once: A is not an offline row yet.
    const b = await fleet.api.post('/v1/messages', { sender_id: sender, receiver_id: user, content: 'B, sent while offline' });
    await waitFor('B stored offline', async () => (await offlineIds(user)).includes(b.body.message_id));
    const first = await pull(user);
    assert.deepEqual(first.messages.map((m) => m.message_id), [b.body.message_id]);

    // After ack_timeout_s, A is stored offline under its older id.
    await waitFor('A redelivered as an offline row', async () => (await offlineIds(user)).includes(a.body.message_id), 20_000);
    assert.ok(BigInt(a.body.message_id) < BigInt(b.body.message_id));

    // The next pull from B's cursor must hand A out, not delete it unseen.
    const second = await pull(user, b.body.message_id);
    assert.deepEqual(second.messages.map((m) => m.message_id), [a.body.message_id]);
    assert.equal(second.messages[0]!.content, 'A, heard but never acked');
    assert.deepEqual(await offlineIds(user), [a.body.message_id], 'B, handed out and acknowledged, is gone');
    const third = await pull(user, a.body.message_id);
    assert.deepEqual(third, { messages: [], has_more: false });
    assert.deepEqual(await offlineIds(user), []);
  });

  it('an id received online, passed as cursor, deletes only rows already handed out', async () => {
    const gateway = new GatewaySimulator(fleet.api, 'gw-online');
    try {
      // Two offline rows, never pulled.
      const stored = [];
      for (const text of ['o1', 'o2']) stored.push((await fleet.api.post('/v1/messages', { sender_id: sender, receiver_id: other, content: text })).body.message_id);
      await waitFor('both stored offline', async () => (await offlineIds(other)).length === 2);
      // Then the user comes online and receives a newer message there.
      await gateway.connect([other]);
      const online = await fleet.api.post('/v1/messages', { sender_id: sender, receiver_id: other, content: 'online' });
      const [got] = await gateway.waitForCount(other, 1);
      await gateway.ack(other, [got.message_id]);
      // A client that passes the id it got online as its cursor still gets both offline rows.
      const page = await pull(other, online.body.message_id);
      assert.deepEqual(page.messages.map((m) => m.message_id), stored);
      const done = await pull(other, stored[1]);
      assert.deepEqual(done, { messages: [], has_more: false });
    } finally {
      await gateway.close();
    }
  });

  it('an id received online deletes nothing when the page pulled before it never reached the client', async () => {
    const u = id(4);
    assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: u })).status, 204);
    const gateway = new GatewaySimulator(fleet.api, 'gw-lost-page');
    try {
      // Two messages stored offline, pulled; the answer is lost: the client never saw them.
      const stored = [];
      for (const text of ['unseen 1', 'unseen 2']) stored.push((await fleet.api.post('/v1/messages', { sender_id: sender, receiver_id: u, content: text })).body.message_id);
      await waitFor('both stored offline', async () => (await offlineIds(u)).length === 2);
      assert.deepEqual((await pull(u)).messages.map((m) => m.message_id), stored, 'the page whose answer is lost');
      // The user comes online and receives a third message there, then pulls with its id.
      await gateway.connect([u]);
      const online = await fleet.api.post('/v1/messages', { sender_id: sender, receiver_id: u, content: 'online' });
      const [got] = await gateway.waitForCount(u, 1);
      assert.equal(got.message_id, online.body.message_id);
      await gateway.ack(u, [got.message_id]);
      const page = await pull(u, online.body.message_id);
      assert.deepEqual(page.messages.map((m) => m.message_id), stored, 'the unseen page comes again');
      assert.deepEqual(page.messages.map((m) => m.content), ['unseen 1', 'unseen 2']);
      assert.deepEqual(await offlineIds(u), stored, 'no row deleted unseen');
      // The cursor of the page the client did receive acknowledges it.
      assert.deepEqual(await pull(u, stored[1]), { messages: [], has_more: false });
      assert.deepEqual(await offlineIds(u), []);
    } finally {
      await gateway.close();
    }
  });

  it('a cursor acknowledges exactly the page that ended with it (repository)', async () => {
    const offline = offlineRepository(db.pool);
    const u = id(10);
    const ids = [201, 202, 203, 204, 205].map((n) => String(base + 1000n + BigInt(n)));
    await db.pool.query(
      'INSERT INTO message_history (message_id, conversation, seq, sender_id, receiver_id, message_type, content, created_at) VALUES ?',
      [ids.map((m, i) => [m, `s:${sender}:${u}`, i + 1, sender, u, 'text', `p${i}`, Date.now()])],
    );
    await offline.insertMany(ids.map((m) => ({ user_id: u, message_id: m })), Date.now());
    const page = async (cursor: string | null, limit: number) => (await offline.pull(u, cursor, limit, Date.now())).messages.map((m) => m.message_id);

    assert.deepEqual(await page(null, 2), [ids[0], ids[1]]);
    // An id inside the page, or one that ended no page, deletes nothing: the same page again.
    assert.deepEqual(await page(ids[0]!, 2), [ids[0], ids[1]]);
    assert.deepEqual(await page(ids[3]!, 2), [ids[0], ids[1]]);
    assert.deepEqual(await page(String(base + 9_999_999n), 2), [ids[0], ids[1]]);
    assert.deepEqual(await offlineIds(u), ids, 'nothing deleted by a cursor that ended no page');
    // The page's own cursor acknowledges it, and a repeat of that pull returns the same next page.
    assert.deepEqual(await page(ids[1]!, 2), [ids[2], ids[3]]);
    assert.deepEqual(await page(ids[1]!, 2), [ids[2], ids[3]]);
    assert.deepEqual(await offlineIds(u), ids.slice(2));
    // A page returned again under a longer limit ends elsewhere: only its latest end acknowledges it.
    assert.deepEqual(await page(ids[1]!, 3), [ids[2], ids[3], ids[4]]);
    assert.deepEqual(await page(ids[3]!, 3), [ids[2], ids[3], ids[4]], 'the earlier end no longer acknowledges rows returned since in a later page');
    assert.deepEqual(await page(ids[4]!, 3), []);
    assert.deepEqual(await offlineIds(u), []);
  });

  it('keeps a late row of an older id through a pull whose page ended past it (repository, any order of arrival)', async () => {
    const offline = offlineRepository(db.pool);
    const u = id(9);
    const ids = [101, 102, 103, 104].map((n) => String(base + 1000n + BigInt(n)));
    // History rows for the join; offline rows for 102 and 104 first.
    await db.pool.query(
      'INSERT INTO message_history (message_id, conversation, seq, sender_id, receiver_id, message_type, content, created_at) VALUES ?',
      [ids.map((m, i) => [m, `s:${sender}:${u}`, i + 1, sender, u, 'text', `m${i}`, Date.now()])],
    );
    await offline.insertMany([{ user_id: u, message_id: ids[1]! }, { user_id: u, message_id: ids[3]! }], Date.now());
    const p1 = await offline.pull(u, null, 1, Date.now());
    assert.deepEqual(p1.messages.map((m) => m.message_id), [ids[1]]);
    // A delivery retried after a crash, and a late group chunk: older ids arrive now.
    await offline.insertMany([{ user_id: u, message_id: ids[0]! }, { user_id: u, message_id: ids[2]! }], Date.now());
    const p2 = await offline.pull(u, ids[1]!, 10, Date.now());
    assert.deepEqual(p2.messages.map((m) => m.message_id), [ids[0], ids[2], ids[3]]);
    const p3 = await offline.pull(u, ids[3]!, 10, Date.now());
    assert.deepEqual(p3.messages, []);
  });
});
