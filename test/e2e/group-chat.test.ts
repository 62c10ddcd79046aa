import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import type { TestDatabase } from '../support/db';
import { randomUserBase, testRedis } from '../support/env';
import type { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { suiteFleet, type SuiteFleet } from '../support/suite-fleet';
import { waitFor } from '../support/wait';

describe('group chat end to end', () => {
  let suite: SuiteFleet;
  let db: TestDatabase;
  let fleet: Fleet;
  let gateway: GatewaySimulator;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const users = Array.from({ length: 8 }, (_, i) => id(i + 1));
  const [owner, on1, on2, off1, off2, outsider, leaver] = users as [string, string, string, string, string, string, string];
  const group = id(500);

  const offlineRows = async (where = '1=1', params: unknown[] = []) => {
    const [rows] = await db.pool.query<RowDataPacket[]>(`SELECT user_id, message_id FROM offline_message WHERE ${where}`, params);
    return rows.map((r) => ({ user_id: String(r.user_id), message_id: String(r.message_id) }));
  };

  const changeMembers = (body: { add?: string[]; remove?: string[] }, groupId = group) => fleet.client.POST('/v1/groups/{group_id}/members', { params: { path: { group_id: groupId } }, body });
  const listMembers = (groupId = group) => fleet.client.GET('/v1/groups/{group_id}/members', { params: { path: { group_id: groupId } } });
  const sendToGroup = (body: { sender_id: string; group_id: string; content: string; client_msg_id?: string }) => fleet.client.POST('/v1/group-messages', { body });
  const pullOffline = (userId: string) => fleet.client.GET('/v1/users/{user_id}/offline-messages', { params: { path: { user_id: userId } } });

  before(async () => {
    suite = await suiteFleet(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
    ({ db, fleet } = suite);
    for (const u of users) assert.equal((await fleet.client.PUT('/v1/users/{user_id}', { params: { path: { user_id: u } }, body: { name: `name-${u.slice(-1)}` } })).response.status, 204);
    assert.equal((await fleet.client.PUT('/v1/groups/{group_id}', { params: { path: { group_id: group } }, body: { name: '项目组 🚀' } })).response.status, 204);
    const added = await changeMembers({ add: [owner, on1, on2, off1, off2, leaver] });
    assert.deepEqual(added.data, { member_count: 6 });
    gateway = new GatewaySimulator(fleet.api);
    await gateway.connect([owner, on1, on2, leaver, outsider]);
  });

  after(async () => {
    await gateway?.close();
    await suite?.close();
  });

  it('lists members and refuses bad membership changes', async () => {
    const list = await listMembers();
    assert.deepEqual([...list.data!.members].sort(), [owner, on1, on2, off1, off2, leaver].sort());
    assert.equal((await listMembers(id(999))).response.status, 404);
    const unknownUser = await changeMembers({ add: [id(777)] });
    assert.equal(unknownUser.response.status, 404);
    assert.match(unknownUser.error!.error.message, new RegExp(id(777)));
    assert.equal((await changeMembers({})).response.status, 400);
    assert.equal((await changeMembers({ add: [on1], remove: [on1] })).response.status, 400);
    assert.equal((await listMembers()).data!.members.length, 6, 'refused changes changed nothing');
  });

  it('delivers to every member but the sender: online once on user:{id}, offline by pull with the group name', async () => {
    const { data: sent, response } = await sendToGroup({ sender_id: owner, group_id: group, content: '大家好 👋', client_msg_id: 'g-1' });
    assert.equal(response.status, 202);
    assert.ok(sent);
    assert.equal(sent.seq, 1);
    await gateway.waitForCount(on1, 1);
    await gateway.waitForCount(on2, 1);
    await waitFor('offline rows of both offline members', async () => (await offlineRows('message_id = ?', [sent.message_id])).length === 2);
    const payload = gateway.for(on1)[0];
    assert.equal(payload.group_id, group);
    assert.equal(payload.receiver_id, null);
    assert.equal(payload.message_id, sent.message_id);
    assert.equal(payload.content, '大家好 👋');
    for (const u of [off1, off2]) {
      const pulled = (await pullOffline(u)).data!;
      assert.equal(pulled.messages.length, 1);
      assert.equal(pulled.messages[0]!.group_id, group);
      assert.equal(pulled.messages[0]!.group_name, '项目组 🚀');
      assert.equal(pulled.messages[0]!.sender_name, `name-${owner.slice(-1)}`);
      assert.equal(pulled.messages[0]!.content, '大家好 👋');
    }
    // The history row is stored once; offline rows reference it.
    const [h] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE group_id = ?', [group]);
    assert.equal(Number(h[0]!.n), 1);
    await sendToGroup({ sender_id: on1, group_id: group, content: 'second' });
    // Members' deliveries are independent jobs: wait for each online member that gets it.
    await gateway.waitForCount(owner, 1);
    await gateway.waitForCount(on2, 2);
    assert.equal(gateway.for(on1).length, 1, 'a sender never gets its own message');
    assert.equal(gateway.for(on2).length, 2);
    assert.equal(gateway.for(outsider).length, 0);
    // Group acks: members move their cursor, non-members are rejected.
    const ack = await fleet.client.POST('/v1/acks', { body: { user_id: on2, message_ids: [sent.message_id], status: 'read' } });
    assert.deepEqual(ack.data, { updated: 1 });
    const refused = await fleet.client.POST('/v1/acks', { body: { user_id: outsider, message_ids: [sent.message_id], status: 'read' } });
    assert.deepEqual(refused.data, { updated: 0 });
  });

  it('stops delivering to a member removed before a send', async () => {
    const removed = await changeMembers({ remove: [leaver] });
    assert.deepEqual(removed.data, { member_count: 5 });
    const before = gateway.for(leaver).length;
    const { data: sent, response } = await sendToGroup({ sender_id: owner, group_id: group, content: 'after the leave' });
    assert.equal(response.status, 202);
    assert.ok(sent);
    await waitFor('the others to receive it', () => gateway.for(on1).some((p) => p.message_id === sent.message_id));
    await waitFor('offline members to get it', async () => (await offlineRows('message_id = ?', [sent.message_id])).length === 2);
    assert.equal(gateway.for(leaver).length, before);
    assert.equal((await offlineRows('user_id = ? AND message_id = ?', [leaver, sent.message_id])).length, 0);
    const leaverSends = await sendToGroup({ sender_id: leaver, group_id: group, content: 'let me back' });
    assert.equal(leaverSends.response.status, 403);
  });

  it('refuses a non-member sender with 403 and an unknown group with 404, storing nothing', async () => {
    const historyOfGroup = async () => Number((await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE group_id = ?', [group]))[0][0]!.n);
    const before = await historyOfGroup();
    const r = await sendToGroup({ sender_id: outsider, group_id: group, content: 'let me in' });
    assert.equal(r.response.status, 403);
    assert.equal(r.error!.error.code, 'PERMISSION_DENIED');
    assert.match(r.error!.error.message, new RegExp(outsider));
    const unknown = await sendToGroup({ sender_id: owner, group_id: id(999), content: 'hello?' });
    assert.equal(unknown.response.status, 404);
    const batch = await fleet.client.POST('/v1/messages/batch', {
      body: {
        messages: [
          { sender_id: outsider, group_id: group, content: 'batch intruder' },
          { sender_id: owner, group_id: group, content: 'batch ok' },
        ],
      },
    });
    const [intruder, ok] = batch.data!.results;
    assert.ok(intruder && 'error' in intruder && ok && 'message_id' in ok, JSON.stringify(batch.data));
    assert.equal(intruder.error.code, 'PERMISSION_DENIED');
    assert.match(ok.message_id, /^\d+$/);
    await waitFor('the accepted batch item in history', async () => (await historyOfGroup()) === before + 1);
    const [intruders] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE sender_id = ?', [outsider]);
    assert.equal(Number(intruders[0]!.n), 0);
  });
});

describe('a 10,000-member group', () => {
  let suite: SuiteFleet;
  let db: TestDatabase;
  let fleet: Fleet;
  const base = randomUserBase();
  const members = Array.from({ length: 10_000 }, (_, i) => String(base + BigInt(i + 1)));
  const online = members.filter((_, i) => i % 3 === 0);
  const group = String(base + 20_000n);
  let sub: GatewaySimulator;
  /** How many times each (channel, message) was heard. */
  const heardMap = () => {
    const heard = new Map<string, number>();
    for (const r of sub.received) {
      const key = `${r.channel}/${r.payload.message_id}`;
      heard.set(key, (heard.get(key) ?? 0) + 1);
    }
    return heard;
  };


  before(async () => {
    suite = await suiteFleet(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
    ({ db, fleet } = suite);
    // Users are set up in bulk SQL (creating them is not what this test is about); the group through the API.
    for (let i = 0; i < members.length; i += 2000) {
      const chunk = members.slice(i, i + 2000);
      await db.pool.query(`INSERT INTO \`user\` (id, name, created_at, updated_at) VALUES ${chunk.map(() => '(?, ?, 0, 0)').join(', ')}`, chunk.flatMap((m) => [m, `m${m.slice(-5)}`]));
    }
    assert.equal((await fleet.client.PUT('/v1/groups/{group_id}', { params: { path: { group_id: group } }, body: { name: 'everyone' } })).response.status, 204);
    assert.deepEqual((await fleet.client.POST('/v1/groups/{group_id}/members', { params: { path: { group_id: group } }, body: { add: members } })).data, { member_count: 10_000 });
    sub = new GatewaySimulator(fleet.api, 'gw-big');
    await sub.subscribe(online.map((u) => `user:${u}`));
    // Presence set directly, as a gateway may (one key per user: on a cluster they span slots).
    const redis = testRedis();
    await Promise.all(online.map((u) => redis.set(`im:presence:${u}`, 'gw-big')));
    redis.disconnect();
  });

  after(async () => {
    await sub?.close();
    await suite?.close();
  });

  const offlineCount = async (messageId: string) => {
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n, COUNT(DISTINCT user_id) AS d FROM offline_message WHERE message_id = ?', [messageId]);
    return { rows: Number(rows[0]!.n), distinct: Number(rows[0]!.d) };
  };
  const heardCount = (messageId: string) => [...heardMap().keys()].filter((k) => k.endsWith(`/${messageId}`)).length;

  it('reaches every member: the online share by publish, the offline share by offline row', async () => {
    const sender = members[0]!; // online
    const sent = await fleet.api.post('/v1/group-messages', { sender_id: sender, group_id: group, content: 'all hands 📣' });
    assert.equal(sent.status, 202);
    await waitFor('every member routed', async () => heardCount(sent.body.message_id) + (await offlineCount(sent.body.message_id)).rows === 9_999, 60_000);
    assert.equal(heardCount(sent.body.message_id), online.length - 1, 'each online member but the sender heard it');
    assert.equal((await offlineCount(sent.body.message_id)).distinct, members.length - online.length);
    assert.ok([...heardMap().entries()].filter(([k]) => k.endsWith(`/${sent.body.message_id}`)).every(([, n]) => n === 1), 'exactly once each');
  });

  it('loses no member and stores no duplicate row when fan-out and delivery are killed mid-group', async () => {
    const sender = members[1]!; // offline
    const sent = await fleet.api.post('/v1/group-messages', { sender_id: sender, group_id: group, content: 'crash in the middle' });
    assert.equal(sent.status, 202);
    await waitFor('delivery under way', async () => (await offlineCount(sent.body.message_id)).rows > 0 || heardCount(sent.body.message_id) > 0, 30_000);
    await fleet.kill('worker-fanout', 'SIGKILL');
    await fleet.kill('worker-delivery', 'SIGKILL');
    await fleet.start('worker-fanout');
    await fleet.start('worker-delivery');
    await waitFor(
      'every member routed after the restart',
      async () => {
        const off = await offlineCount(sent.body.message_id);
        const heard = heardMap();
        const onlineDone = online.every((u) => heard.has(`user:${u}/${sent.body.message_id}`));
        return onlineDone && off.distinct >= members.length - online.length - 1 ? off : undefined;
      },
      90_000,
    ).then((off) => {
      assert.equal(off.rows, off.distinct, 'no duplicate offline row');
    });
    const off = await offlineCount(sent.body.message_id);
    const [fallbacks] = await db.pool.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM offline_message WHERE message_id = ? AND user_id IN (${online.map(() => '?').join(',')})`,
      [sent.body.message_id, ...online],
    );
    // Offline members each have exactly one row; online members were heard (a few may also have a fallback row).
    assert.equal(off.distinct - Number(fallbacks[0]!.n), members.length - online.length - 1);
    assert.equal((await offlineCount(sent.body.message_id)).rows, (await offlineCount(sent.body.message_id)).distinct);
  });
});
