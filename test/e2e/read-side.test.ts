import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { waitFor } from '../support/wait';

describe('history, search, receipts, conversations and recall', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let gateway: GatewaySimulator;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const [ann, ben, cat, dan] = [id(1), id(2), id(3), id(4)];
  const group = id(100);

  const persisted = async (n: number) =>
    waitFor(`${n} messages in history`, async () => {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history');
      return Number(rows[0]!.n) >= n;
    });

  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url).startAll(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
    for (const u of [ann, ben, cat, dan]) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: `n${u.slice(-1)}` })).status, 204);
    await fleet.api.put(`/v1/groups/${group}`, { name: 'readers' });
    await fleet.api.post(`/v1/groups/${group}/members`, { add: [ann, ben, cat] });
    gateway = new GatewaySimulator(fleet.api);
    await gateway.connect([ben]);
    await gateway.subscribe([`group:${group}`]);
  });

  after(async () => {
    await gateway?.close();
    await fleet?.stop();
    await db?.drop();
  });

  it('pages several hundred messages newest first by before_seq, with no gap and no repeat', async () => {
    const total = 350;
    for (let i = 0; i < total; i += 100) {
      const messages = Array.from({ length: Math.min(100, total - i) }, (_, k) => ({
        sender_id: (i + k) % 2 ? ann : cat,
        receiver_id: (i + k) % 2 ? cat : ann,
        content: `page message ${i + k}`,
      }));
      assert.equal((await fleet.api.post('/v1/messages/batch', { messages })).status, 200);
    }
    await persisted(total);
    const seen: number[] = [];
    let before = '';
    for (let pages = 0; pages < 20; pages++) {
      const r = await fleet.api.get(`/v1/users/${ann}/history?peer_id=${cat}&limit=64${before}`);
      assert.equal(r.status, 200);
      seen.push(...r.body.messages.map((m: any) => m.seq));
      if (!r.body.has_more) break;
      before = `&before_seq=${r.body.messages.at(-1).seq}`;
    }
    assert.deepEqual(seen, Array.from({ length: total }, (_, i) => total - i));
    const first = (await fleet.api.get(`/v1/users/${cat}/history?peer_id=${ann}&limit=1`)).body.messages[0];
    assert.deepEqual(Object.keys(first).sort(), ['content', 'created_at', 'group_id', 'message_id', 'message_type', 'receiver_id', 'sender_id', 'seq', 'status'].sort());
    assert.equal(first.content, `page message ${total - 1}`);
    assert.equal(first.status, 'sent');
  });

  it('lets only members read a group history (403 otherwise) and refuses bad queries', async () => {
    await fleet.api.post('/v1/group-messages', { sender_id: ann, group_id: group, content: 'group hello' });
    await persisted(351);
    const ok = await fleet.api.get(`/v1/users/${ben}/history?group_id=${group}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.messages[0].content, 'group hello');
    const denied = await fleet.api.get(`/v1/users/${dan}/history?group_id=${group}`);
    assert.equal(denied.status, 403);
    assert.equal((await fleet.api.get(`/v1/users/${ann}/history`)).status, 400);
    assert.equal((await fleet.api.get(`/v1/users/${ann}/history?peer_id=${cat}&group_id=${group}`)).status, 400);
    assert.equal((await fleet.api.get(`/v1/users/${ann}/history?peer_id=${cat}&limit=201`)).status, 400);
    assert.equal((await fleet.api.get(`/v1/users/${ann}/history?peer_id=${id(99)}`)).status, 404);
  });

  it('searches CJK, Latin (case-insensitive) and emoji, only in the user\'s own conversations and time range', async () => {
    const sends = [
      { sender_id: ben, receiver_id: dan, content: '我们明天开会讨论项目' },
      { sender_id: dan, receiver_id: ben, content: 'The Quarterly REPORT is ready 📈' },
      { sender_id: ben, receiver_id: dan, content: '100% sure_thing' },
      { sender_id: ann, receiver_id: cat, content: '明天见 (not in ben\'s conversations)' },
    ];
    const results = (await fleet.api.post('/v1/messages/batch', { messages: sends })).body.results;
    await persisted(355);
    // worker-persist records a conversation for its users right after the history rows: search
    // looks only in recorded conversations, so wait for those too.
    await waitFor('ben and dan\'s conversation recorded', async () => {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM user_conversation WHERE user_id IN (?, ?) AND peer_id IN (?, ?)', [ben, dan, ben, dan]);
      return Number(rows[0]!.n) === 2;
    });
    const search = async (user: string, keyword: string, extra = '') => {
      const r = await fleet.api.get(`/v1/users/${user}/search?keyword=${encodeURIComponent(keyword)}${extra}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.messages.map((m: any) => m.content);
    };
    assert.deepEqual(await search(ben, '明天'), ['我们明天开会讨论项目']);
    assert.deepEqual(await search(ben, '开会'), ['我们明天开会讨论项目']);
    assert.deepEqual(await search(dan, 'quarterly report'), ['The Quarterly REPORT is ready 📈']);
    assert.deepEqual(await search(dan, 'QUARTERLY'), ['The Quarterly REPORT is ready 📈']);
    assert.deepEqual(await search(ben, '📈'), ['The Quarterly REPORT is ready 📈']);
    assert.deepEqual(await search(ben, '🎉'), [], 'another emoji does not match');
    assert.deepEqual(await search(ben, '100%'), ['100% sure_thing'], 'wildcards are literal');
    assert.deepEqual(await search(ben, '%'), ['100% sure_thing']);
    assert.deepEqual(await search(ben, 'e_t'), ['100% sure_thing']);
    assert.deepEqual(await search(dan, '明天见'), [], 'other people\'s conversations are not searched');
    const at = results[0].timestamp as number;
    assert.deepEqual(await search(ben, '明天', `&start_time=${at + 60_000}&end_time=${at + 120_000}`), []);
    assert.deepEqual(await search(ben, '明天', `&start_time=${at - 1000}&end_time=${at + 1000}`), ['我们明天开会讨论项目']);
    assert.equal((await fleet.api.get(`/v1/users/${ben}/search?keyword=`)).status, 400);
    assert.equal((await fleet.api.get(`/v1/users/${ben}/search?keyword=x&start_time=10&end_time=5`)).status, 400);
    // Group messages are searched for members.
    assert.deepEqual(await search(cat, 'group hello'), ['group hello']);
    assert.deepEqual(await search(dan, 'group hello'), []);
  });

  it('moves status forward with acks and never back; acks for others\' messages change nothing', async () => {
    const sent = (await fleet.api.post('/v1/messages/batch', {
      messages: [1, 2, 3].map((n) => ({ sender_id: dan, receiver_id: ben, content: `status ${n}` })),
    })).body.results;
    await persisted(358);
    const statuses = async () =>
      (await fleet.api.get(`/v1/users/${dan}/history?peer_id=${ben}&limit=3`)).body.messages.map((m: any) => `${m.content}:${m.status}`);
    assert.deepEqual(await statuses(), ['status 3:sent', 'status 2:sent', 'status 1:sent']);
    assert.deepEqual((await gateway.ack(ben, [sent[1].message_id], 'delivered')).body, { updated: 1 });
    assert.deepEqual(await statuses(), ['status 3:sent', 'status 2:delivered', 'status 1:delivered']);
    assert.deepEqual((await gateway.ack(ben, [sent[2].message_id], 'read')).body, { updated: 1 });
    assert.deepEqual(await statuses(), ['status 3:read', 'status 2:read', 'status 1:read']);
    // Older acks arriving late do not move anything back.
    await gateway.ack(ben, [sent[0].message_id], 'delivered');
    await gateway.ack(ben, [sent[0].message_id], 'read');
    assert.deepEqual(await statuses(), ['status 3:read', 'status 2:read', 'status 1:read']);
    // The sender acking its own message, a stranger, and an unknown id: rejected.
    assert.deepEqual((await fleet.api.post('/v1/acks', { user_id: dan, message_ids: [sent[2].message_id], status: 'read' })).body, { updated: 0 });
    assert.deepEqual((await fleet.api.post('/v1/acks', { user_id: cat, message_ids: [sent[2].message_id, '12345'], status: 'read' })).body, { updated: 0 });
  });

  it('lists conversations most recent first with last message, max_seq, read_seq and unread', async () => {
    const r = await fleet.api.get(`/v1/users/${ben}/conversations`);
    assert.equal(r.status, 200);
    const [first, second] = r.body.conversations;
    assert.equal(first.peer_id, dan);
    assert.equal(first.last_message.content, 'status 3');
    assert.equal(first.last_message.status, 'read');
    assert.equal(first.max_seq, 6);
    assert.equal(first.read_seq, 6);
    assert.equal(first.unread, 0);
    assert.equal(second.group_id, group);
    assert.equal(second.last_message.content, 'group hello');
    assert.equal(second.unread, 1);
    assert.equal((await fleet.api.get(`/v1/users/${dan}/conversations?limit=1`)).body.conversations.length, 1);
    const cats = (await fleet.api.get(`/v1/users/${cat}/conversations`)).body.conversations;
    assert.deepEqual(cats.map((c: any) => c.peer_id ?? `g${c.group_id}`), [ann, `g${group}`]);
    assert.equal(cats[0].max_seq, 351, '350 paging messages and one from the search test');
    assert.equal(cats[0].read_seq, 0);
    assert.equal(cats[0].unread, 351, 'cat acknowledged nothing');
  });

  it('answers a first page the conversation is being read for from the hot-conversation cache: the page MySQL gives, without a recalled message', async () => {
    const fromCache = async () => {
      const text = (await fleet.api.get('/metrics')).body as string;
      const value = Number(/^im_history_reads_total\{source="cache"[^}]*\} (\d+)/m.exec(text)?.[1]);
      assert.ok(Number.isInteger(value), 'ingest-api exports im_history_reads_total{source="cache"}');
      return value;
    };
    const firstPage = () => fleet.api.get(`/v1/users/${ben}/history?peer_id=${ann}&limit=20`);
    // before_seq above every seq takes MySQL's path for the same page.
    const mysqlPage = () => fleet.api.get(`/v1/users/${ben}/history?peer_id=${ann}&limit=20&before_seq=999999999`);
    const sendAndHear = async (n: number, label: string) => {
      const sent = await fleet.api.post('/v1/messages/batch', {
        messages: Array.from({ length: n }, (_, k) => ({ sender_id: ann, receiver_id: ben, content: `${label} ${k}` })),
      });
      const ids = sent.body.results.map((r: any) => r.message_id);
      // Delivery follows persist's round, and the round fills the cache before it hands off.
      await waitFor(`ben hears ${label}`, () => ids.every((mid: string) => gateway.for(ben).some((p) => p.message_id === mid)));
      return ids as string[];
    };
    await sendAndHear(30, 'hot');
    const before = await fromCache();
    assert.equal((await firstPage()).status, 200, 'the first read asks for the cache');
    assert.equal(await fromCache(), before, 'and comes from MySQL');
    const ids = await sendAndHear(5, 'hotter');
    const cached = await firstPage();
    assert.equal(await fromCache(), before + 1, 'the read after the next round comes from the cache');
    assert.deepEqual(cached.body, (await mysqlPage()).body);
    assert.equal(cached.body.messages[0].content, 'hotter 4');
    assert.equal(cached.body.has_more, true);

    await fleet.api.del(`/v1/messages/${ids[4]}?user_id=${ann}`);
    const afterRecall = await firstPage();
    assert.ok(!afterRecall.body.messages.some((m: any) => m.message_id === ids[4]), 'the recalled message is gone from the first page');
    assert.deepEqual(afterRecall.body, (await mysqlPage()).body);
  });

  it('recalls a message: recipients get the event, it leaves history and the offline pull, and the list moves back', async () => {
    // cat is offline: the message waits as an offline row.
    const sent = await fleet.api.post('/v1/messages', { sender_id: dan, receiver_id: cat, content: 'oops, wrong person' });
    await waitFor('offline row', async () => {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message WHERE message_id = ?', [sent.body.message_id]);
      return Number(rows[0]!.n) === 1;
    });
    assert.equal((await fleet.api.del(`/v1/messages/${sent.body.message_id}?user_id=${cat}`)).status, 403);
    assert.equal((await fleet.api.del(`/v1/messages/${id(9999)}?user_id=${dan}`)).status, 404);
    assert.equal((await fleet.api.del(`/v1/messages/${sent.body.message_id}`)).status, 400);
    const recall = await fleet.api.del(`/v1/messages/${sent.body.message_id}?user_id=${dan}`);
    assert.deepEqual(recall.body, { deleted: true });
    const pulled = await fleet.api.get(`/v1/users/${cat}/offline-messages?limit=1000`);
    assert.ok(!pulled.body.messages.some((m: any) => m.message_id === sent.body.message_id));
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE message_id = ?', [sent.body.message_id]);
    assert.equal(Number(rows[0]!.n), 0);
    assert.equal((await fleet.api.get(`/v1/users/${dan}/conversations`)).body.conversations.find((c: any) => c.peer_id === cat), undefined);

    // ben is online: he sees the message, then its recall.
    const toBen = await fleet.api.post('/v1/messages', { sender_id: dan, receiver_id: ben, content: 'take this back' });
    await waitFor('ben hears it', () => gateway.for(ben).some((p) => p.message_id === toBen.body.message_id));
    await fleet.api.del(`/v1/messages/${toBen.body.message_id}?user_id=${dan}`);
    const event = await waitFor('the recall event', () => gateway.for(ben).find((p) => p.event === 'recall' && p.message_id === toBen.body.message_id));
    assert.equal(event.sender_id, dan);
    assert.equal(event.receiver_id, ben);
    const conv = (await fleet.api.get(`/v1/users/${ben}/conversations`)).body.conversations.find((c: any) => c.peer_id === dan);
    assert.equal(conv.last_message.content, 'status 3', 'the last message moves back to the one before');

    // A group recall goes to group:{id}.
    const g = await fleet.api.post('/v1/group-messages', { sender_id: cat, group_id: group, content: 'group oops' });
    await persisted(1);
    await waitFor('group message persisted', async () => {
      const [r2] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE message_id = ?', [g.body.message_id]);
      return Number(r2[0]!.n) === 1;
    });
    await fleet.api.del(`/v1/messages/${g.body.message_id}?user_id=${cat}`);
    const groupEvent = await waitFor('group recall event', () =>
      gateway.received.find((r) => r.channel === `group:${group}` && r.payload.event === 'recall' && r.payload.message_id === g.body.message_id),
    );
    assert.equal(groupEvent.payload.group_id, group);
  });
});
