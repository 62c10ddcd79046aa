import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Redis } from '@im/redis';
import { HEALTH_PROTO } from '../../apps/ingest-api/src/grpc/health';
import { LEGACY_SERVICE, loadProtos, PROTO_DIR, V1_SERVICE } from '../../apps/ingest-api/src/grpc/server';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testRedis } from '../support/env';
import { Fleet } from '../support/fleet';
import { bearer, rejectsWith } from '../support/grpc';
import { pythonGrpc } from '../support/python-grpc';
import { waitFor } from '../support/wait';

type Call = (req: object, metadata?: grpc.Metadata) => Promise<any>;
const REFLECTION_DIR = new URL('../../node_modules/@grpc/reflection/build/proto', import.meta.url).pathname;

/**
 * im.message.v1 end to end against the real fleet: every RPC's answer and its errors, the same
 * parsers as HTTP (identical messages for identical mistakes), grpc.health.v1 and reflection,
 * then the Python grpcio client (test/support/grpc_check.py) over the same server.
 */
describe('gRPC im.message.v1 end to end', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let sub: Redis;
  const clients: grpc.Client[] = [];
  const rpc: Record<string, Call> = {};
  const published: { channel: string; event: any }[] = [];
  const base = randomUserBase();
  const u = (n: number) => String(base + BigInt(n));
  const [ann, bob, cid, eve] = [u(1), u(2), u(3), u(4)];
  const group = u(50);
  const unknownUser = u(99);


  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url).startAll(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
    const pkg = grpc.loadPackageDefinition(loadProtos()) as any;
    const client = new pkg.im.message.v1.MessageService(`127.0.0.1:${fleet.grpcPort}`, grpc.credentials.createInsecure()) as grpc.Client;
    clients.push(client);
    for (const method of Object.keys(pkg.im.message.v1.MessageService.service)) {
      rpc[method] = (req, metadata = bearer()) => new Promise((resolve, reject) => (client as any)[method](req, metadata, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))));
    }
    sub = testRedis();
    sub.on('message', (channel: string, raw: string) => published.push({ channel, event: JSON.parse(raw) }));
    await sub.subscribe('system:notification', `user:${cid}`);
  });

  after(async () => {
    for (const c of clients) c.close();
    sub?.disconnect();
    await fleet?.stop();
    await db?.drop();
  });

  it('reports SERVING on grpc.health.v1 and describes every service by reflection', async () => {
    const pkg = grpc.loadPackageDefinition(
      protoLoader.loadSync([HEALTH_PROTO.file, 'grpc/reflection/v1/reflection.proto'], { includeDirs: [HEALTH_PROTO.dir, REFLECTION_DIR], keepCase: true, enums: String }),
    ) as any;
    const health = new pkg.grpc.health.v1.Health(`127.0.0.1:${fleet.grpcPort}`, grpc.credentials.createInsecure());
    clients.push(health);
    const check = (service: string) => new Promise<any>((resolve, reject) => health.Check({ service }, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));
    // Health samples readiness every 0.5 s: a fleet just found ready by /ready is SERVING within that.
    for (const service of ['', V1_SERVICE, LEGACY_SERVICE]) {
      assert.equal(await waitFor(`${service || 'the server'} SERVING`, async () => ((await check(service)).status === 'SERVING' ? 'SERVING' : undefined), 5000), 'SERVING', service);
    }
    await rejectsWith(check('im.message.v2.MessageService'), grpc.status.NOT_FOUND);

    const reflection = new pkg.grpc.reflection.v1.ServerReflection(`127.0.0.1:${fleet.grpcPort}`, grpc.credentials.createInsecure());
    clients.push(reflection);
    const ask = (req: object) =>
      new Promise<any>((resolve, reject) => {
        const call = reflection.ServerReflectionInfo();
        call.on('data', (res: unknown) => {
          resolve(res);
          call.end();
        });
        call.on('error', reject);
        call.write(req);
      });
    const listed = await ask({ list_services: '' });
    const names = listed.list_services_response.service.map((s: { name: string }) => s.name);
    for (const name of [V1_SERVICE, LEGACY_SERVICE, 'grpc.health.v1.Health']) assert.ok(names.includes(name), `${name} in ${names}`);
    const file = await ask({ file_containing_symbol: V1_SERVICE });
    const descriptor = Buffer.concat(file.file_descriptor_response.file_descriptor_proto).toString('latin1');
    assert.match(descriptor, /im\.message\.v1/);
    for (const method of ['SendBatch', 'AckMessages', 'GetHistory', 'RecallMessage', 'PublishNotification']) assert.ok(descriptor.includes(method), method);
  });

  it('registers users and groups, changes and lists members, with the HTTP errors', async () => {
    for (const [id, name] of [[ann, 'ann'], [bob, 'bob'], [cid, 'cid'], [eve, 'eve']] as const) assert.deepEqual(await rpc.UpsertUser!({ user_id: id, name }), {});
    assert.deepEqual(await rpc.UpsertGroup!({ group_id: group, name: 'v1 group' }), {});
    assert.deepEqual(await rpc.ChangeGroupMembers!({ group_id: group, add: [ann, bob, cid, eve] }), { member_count: 4 });
    assert.deepEqual(await rpc.ChangeGroupMembers!({ group_id: group, remove: [eve] }), { member_count: 3 });
    assert.deepEqual((await rpc.ListGroupMembers!({ group_id: group })).members.sort(), [ann, bob, cid].sort());
    // The HTTP API sees what gRPC registered.
    assert.deepEqual((await fleet.api.get(`/v1/groups/${group}/members`)).body.members.sort(), [ann, bob, cid].sort());

    const badName = await rejectsWith(rpc.UpsertUser!({ user_id: u(5), name: '' }), grpc.status.INVALID_ARGUMENT, /name/);
    assert.deepEqual(badName.metadata.get('im-error-code'), ['INVALID_ARGUMENT']);
    const http = await fleet.api.put(`/v1/users/${u(5)}`, { name: '' });
    assert.equal(badName.details, http.body.error.message, 'the same parser, the same message');
    await rejectsWith(rpc.UpsertUser!({ name: 'no id' }), grpc.status.INVALID_ARGUMENT, /user_id/);
    await rejectsWith(rpc.ChangeGroupMembers!({ group_id: group }), grpc.status.INVALID_ARGUMENT, /at least one/);
    await rejectsWith(rpc.ChangeGroupMembers!({ group_id: group, add: [bob], remove: [bob] }), grpc.status.INVALID_ARGUMENT, /both/);
    await rejectsWith(rpc.ChangeGroupMembers!({ group_id: group, add: [unknownUser] }), grpc.status.NOT_FOUND);
    await rejectsWith(rpc.ListGroupMembers!({ group_id: u(98) }), grpc.status.NOT_FOUND);
    const noToken = await rejectsWith(rpc.ListGroupMembers!({ group_id: group }, new grpc.Metadata()), grpc.status.UNAUTHENTICATED, /bearer/);
    assert.deepEqual(noToken.metadata.get('im-error-code'), ['UNAUTHENTICATED']);
  });

  let single: any;
  let groupSent: any;
  it('sends single, group and batch messages, deduplicated by client_msg_id, each bad batch item refused alone', async () => {
    const first = await rpc.SendMessage!({ sender_id: ann, receiver_id: bob, content: 'v1 你好 👋', client_msg_id: 'v1-1' });
    assert.match(first.sent.message_id, /^\d+$/);
    assert.equal(first.sent.seq, '1');
    assert.deepEqual(await rpc.SendMessage!({ sender_id: ann, receiver_id: bob, content: 'v1 你好 👋', client_msg_id: 'v1-1' }), first);
    single = first.sent;
    groupSent = (await rpc.SendGroupMessage!({ sender_id: ann, group_id: group, content: 'v1 group hello', message_type: 'MESSAGE_TYPE_IMAGE' })).sent;
    assert.equal(groupSent.seq, '1');

    const batch = await rpc.SendBatch!({
      messages: [
        { sender_id: bob, receiver_id: ann, content: 'batch reply' },
        { sender_id: bob, group_id: group, content: 'batch to the group' },
        { sender_id: bob, receiver_id: ann, content: '' },
        { sender_id: eve, group_id: group, content: 'not a member' },
        { sender_id: bob, receiver_id: ann, group_id: group, content: 'both targets' },
      ],
    });
    const r = batch.results;
    assert.equal(r.length, 5);
    assert.equal(r[0].outcome, 'sent');
    assert.equal(r[0].sent.seq, '2');
    assert.equal(r[1].sent.seq, '2');
    assert.equal(r[2].error.code, 'INVALID_ARGUMENT');
    assert.match(r[2].error.message, /^messages\[2\]: content/);
    assert.equal(r[3].error.code, 'PERMISSION_DENIED');
    assert.equal(r[3].error.reason, 'NOT_A_MEMBER');
    assert.equal(r[4].error.code, 'INVALID_ARGUMENT');
    assert.match(r[4].error.message, /receiver_id/);

    await rejectsWith(rpc.SendBatch!({ messages: [] }), grpc.status.INVALID_ARGUMENT, /1 to 1000/);
    await rejectsWith(rpc.SendMessage!({ sender_id: ann, content: 'to nobody' }), grpc.status.INVALID_ARGUMENT, /receiver_id/);
    await rejectsWith(rpc.SendMessage!({ sender_id: ann, receiver_id: bob, content: 'x', message_type: 9 }), grpc.status.INVALID_ARGUMENT, /message_type/);
    await rejectsWith(rpc.SendGroupMessage!({ sender_id: eve, group_id: group, content: 'x' }), grpc.status.PERMISSION_DENIED, /not a member/);
    const unknown = await rejectsWith(rpc.SendMessage!({ sender_id: ann, receiver_id: unknownUser, content: 'x' }), grpc.status.NOT_FOUND, /receiver_id|not known/);
    assert.deepEqual(unknown.metadata.get('im-error-reason'), ['UNKNOWN_USER']);
  });

  it('pulls offline messages by cursor and acknowledges delivered and read, refusing what HTTP refuses', async () => {
    const page1 = await waitFor('both messages offline for bob', async () => {
      const p = await rpc.PullOfflineMessages!({ user_id: bob, limit: 1 });
      return p.has_more ? p : undefined;
    });
    assert.equal(page1.messages.length, 1);
    assert.deepEqual(
      { ...page1.messages[0], created_at: undefined },
      { message_id: single.message_id, seq: '1', sender_id: ann, sender_name: 'ann', group_id: '0', group_name: '', content: 'v1 你好 👋', message_type: 'MESSAGE_TYPE_TEXT', created_at: undefined },
    );
    const page2 = await rpc.PullOfflineMessages!({ user_id: bob, limit: 10, last_message_id: single.message_id });
    assert.deepEqual(page2.messages.map((m: any) => [m.message_id, m.group_id, m.group_name, m.message_type]), [[groupSent.message_id, group, 'v1 group', 'MESSAGE_TYPE_IMAGE']]);
    assert.equal(page2.has_more, false);

    assert.deepEqual(await rpc.AckMessages!({ user_id: bob, message_ids: [single.message_id, groupSent.message_id], status: 'ACK_STATUS_DELIVERED' }), { updated: 2 });
    assert.deepEqual(await rpc.AckMessages!({ user_id: bob, message_ids: [single.message_id], status: 'ACK_STATUS_READ' }), { updated: 1 });
    // ann is the sender, not a recipient: nothing changes.
    assert.deepEqual(await rpc.AckMessages!({ user_id: ann, message_ids: [single.message_id], status: 'ACK_STATUS_READ' }), { updated: 0 });

    const noStatus = await rejectsWith(rpc.AckMessages!({ user_id: bob, message_ids: [single.message_id] }), grpc.status.INVALID_ARGUMENT, /status/);
    const http = await fleet.api.post('/v1/acks', { user_id: bob, message_ids: [single.message_id] });
    assert.equal(noStatus.details, http.body.error.message, 'the same parser, the same message');
    await rejectsWith(rpc.AckMessages!({ user_id: bob, message_ids: [], status: 'ACK_STATUS_READ' }), grpc.status.INVALID_ARGUMENT, /message_ids/);
    await rejectsWith(rpc.PullOfflineMessages!({ user_id: bob, limit: 1001 }), grpc.status.INVALID_ARGUMENT, /limit/);
    await rejectsWith(rpc.PullOfflineMessages!({ user_id: unknownUser }), grpc.status.NOT_FOUND);
  });

  it('reads history, conversations and search, and recalls, as the HTTP read side does', async () => {
    const history = await waitFor('both single messages in history', async () => {
      const h = await rpc.GetHistory!({ user_id: bob, peer_id: ann });
      return h.messages.length === 2 ? h : undefined;
    });
    assert.deepEqual(history.messages.map((m: any) => [m.seq, m.sender_id, m.receiver_id, m.group_id, m.status]), [
      ['2', bob, ann, '0', 'MESSAGE_STATUS_SENT'],
      ['1', ann, bob, '0', 'MESSAGE_STATUS_READ'],
    ]);
    assert.equal(history.has_more, false);
    const older = await rpc.GetHistory!({ user_id: bob, peer_id: ann, before_seq: 2, limit: 1 });
    assert.deepEqual(older.messages.map((m: any) => m.message_id), [single.message_id]);
    // The same page over HTTP, field for field.
    const httpPage = (await fleet.api.get(`/v1/users/${bob}/history?peer_id=${ann}&before_seq=2&limit=1`)).body;
    assert.deepEqual(
      older.messages.map((m: any) => [m.message_id, Number(m.seq), m.content, Number(m.created_at)]),
      httpPage.messages.map((m: any) => [m.message_id, m.seq, m.content, m.created_at]),
    );
    const groupHistory = await waitFor('the group messages in history', async () => {
      const h = await rpc.GetHistory!({ user_id: cid, group_id: group });
      return h.messages.length === 2 ? h : undefined;
    });
    assert.deepEqual(groupHistory.messages.map((m: any) => [m.seq, m.receiver_id, m.group_id]), [
      ['2', '0', group],
      ['1', '0', group],
    ]);

    const { conversations } = await rpc.ListConversations!({ user_id: bob });
    const withAnn = conversations.find((c: any) => c.peer_id === ann);
    const inGroup = conversations.find((c: any) => c.group_id === group);
    assert.ok(withAnn && inGroup, JSON.stringify(conversations));
    assert.deepEqual([withAnn.group_id, withAnn.max_seq, withAnn.read_seq, withAnn.unread, withAnn.last_message.seq], ['0', '2', '1', '1', '2']);
    assert.deepEqual([inGroup.peer_id, inGroup.max_seq], ['0', '2']);

    const found = await rpc.SearchMessages!({ user_id: bob, keyword: '你好' });
    assert.deepEqual(found.messages.map((m: any) => m.message_id), [single.message_id]);
    assert.deepEqual((await rpc.SearchMessages!({ user_id: eve, keyword: '你好' })).messages, []);
    const range = await rejectsWith(rpc.SearchMessages!({ user_id: bob, keyword: 'x', start_time: 2000, end_time: 1000 }), grpc.status.INVALID_ARGUMENT, /end_time/);
    assert.equal(range.details, (await fleet.api.get(`/v1/users/${bob}/search?keyword=x&start_time=2000&end_time=1000`)).body.error.message);
    await rejectsWith(rpc.SearchMessages!({ user_id: bob }), grpc.status.INVALID_ARGUMENT, /keyword/);
    await rejectsWith(rpc.GetHistory!({ user_id: bob }), grpc.status.INVALID_ARGUMENT, /exactly one of peer_id or group_id/);
    await rejectsWith(rpc.GetHistory!({ user_id: bob, peer_id: ann, group_id: group }), grpc.status.INVALID_ARGUMENT, /exactly one/);
    await rejectsWith(rpc.GetHistory!({ user_id: eve, group_id: group }), grpc.status.PERMISSION_DENIED);
    await rejectsWith(rpc.ListConversations!({ user_id: bob, limit: 201 }), grpc.status.INVALID_ARGUMENT, /limit/);

    await rejectsWith(rpc.RecallMessage!({ message_id: groupSent.message_id, user_id: bob }), grpc.status.PERMISSION_DENIED, /only the sender/);
    await rejectsWith(rpc.RecallMessage!({ message_id: u(97), user_id: ann }), grpc.status.NOT_FOUND);
    assert.deepEqual(await rpc.RecallMessage!({ message_id: groupSent.message_id, user_id: ann }), { deleted: true });
    const after = await rpc.GetHistory!({ user_id: cid, group_id: group });
    assert.deepEqual(after.messages.map((m: any) => m.seq), ['2']);
  });

  it('sets and clears presence and publishes notifications', async () => {
    // Presence as the API reports it: the gateway of cid's default device, or none.
    const gatewayOf = async () => (await rpc.ListDevices!({ user_id: cid })).devices.find((d: any) => d.device_id === 'default' && d.online)?.gateway_id;
    assert.deepEqual(await rpc.SetPresence!({ user_id: cid, gateway_id: 'gw-v1' }), {});
    assert.equal(await gatewayOf(), 'gw-v1');
    // A late disconnect from another gateway leaves the presence alone.
    await rpc.ClearPresence!({ user_id: cid, gateway_id: 'gw-other' });
    assert.equal(await gatewayOf(), 'gw-v1');
    await rpc.ClearPresence!({ user_id: cid, gateway_id: 'gw-v1' });
    assert.equal(await gatewayOf(), undefined);
    await rpc.SetPresence!({ user_id: cid, gateway_id: 'gw-v1', ttl_s: 600 });
    await rpc.ClearPresence!({ user_id: cid });
    assert.equal(await gatewayOf(), undefined);
    await rejectsWith(rpc.SetPresence!({ user_id: cid, gateway_id: 'bad gateway!' }), grpc.status.INVALID_ARGUMENT, /gateway_id/);
    await rejectsWith(rpc.SetPresence!({ user_id: cid, gateway_id: 'gw', ttl_s: 86_401 }), grpc.status.INVALID_ARGUMENT, /ttl_s/);
    assert.equal(await gatewayOf(), undefined, 'a refused heartbeat sets nothing');

    assert.deepEqual(await rpc.PublishNotification!({ content: 'maintenance at 22:00 🛠' }), {});
    const note = await waitFor('the notification', async () => published.find((p) => p.channel === 'system:notification'));
    assert.equal(note.event.content, 'maintenance at 22:00 🛠');
    await rejectsWith(rpc.PublishNotification!({ content: '' }), grpc.status.INVALID_ARGUMENT, /content/);
    assert.equal(published.filter((p) => p.channel === 'system:notification').length, 1);
  });

  it('pages conversations, search and members by cursor, the same cursors as HTTP', async () => {
    const first = await rpc.ListGroupMembers!({ group_id: group, limit: 2 });
    assert.equal(first.members.length, 2);
    assert.equal(first.has_more, true);
    assert.ok(first.next_cursor);
    const rest = await rpc.ListGroupMembers!({ group_id: group, limit: 2, cursor: first.next_cursor });
    assert.deepEqual([...first.members, ...rest.members].sort(), [ann, bob, cid].sort());
    assert.deepEqual([rest.has_more, rest.next_cursor], [false, '']);
    // A gRPC cursor continues over HTTP, and the other way round.
    const overHttp = await fleet.client.GET('/v1/groups/{group_id}/members', { params: { path: { group_id: group }, query: { limit: 2, cursor: first.next_cursor } } });
    assert.deepEqual(overHttp.data!.members, rest.members);

    const c1 = await rpc.ListConversations!({ user_id: bob, limit: 1 });
    assert.equal(c1.conversations.length, 1);
    assert.equal(c1.has_more, true);
    const c2 = await rpc.ListConversations!({ user_id: bob, limit: 1, cursor: c1.next_cursor });
    assert.equal(c2.conversations.length, 1);
    assert.notDeepEqual([c2.conversations[0].peer_id, c2.conversations[0].group_id], [c1.conversations[0].peer_id, c1.conversations[0].group_id]);

    await rpc.SendMessage!({ sender_id: ann, receiver_id: bob, content: 'paging needle one' });
    await rpc.SendMessage!({ sender_id: ann, receiver_id: bob, content: 'paging needle two' });
    const s1 = await waitFor('both needles searchable', async () => {
      const page = await rpc.SearchMessages!({ user_id: bob, keyword: 'needle', limit: 1 });
      return page.has_more ? page : undefined;
    });
    const s2 = await rpc.SearchMessages!({ user_id: bob, keyword: 'needle', limit: 1, cursor: s1.next_cursor });
    assert.deepEqual([s1.messages[0].content, s2.messages[0].content, s2.has_more], ['paging needle two', 'paging needle one', false]);

    const wrongList = await rejectsWith(rpc.ListConversations!({ user_id: bob, cursor: first.next_cursor }), grpc.status.INVALID_ARGUMENT, /cursor/);
    assert.deepEqual(wrongList.metadata.get('im-error-reason'), ['INVALID_CURSOR']);
    await rejectsWith(rpc.SearchMessages!({ user_id: bob, keyword: 'other', cursor: s1.next_cursor }), grpc.status.INVALID_ARGUMENT, /another user, group or query/);
  });

  it('reports devices, syncs a device by cursor and removes it', async () => {
    assert.deepEqual(await rpc.SetPresence!({ user_id: eve, gateway_id: 'gw-dev', device_id: 'eve-phone', platform: 'ios' }), {});
    const { devices } = await rpc.ListDevices!({ user_id: eve });
    const phone = devices.find((d: any) => d.device_id === 'eve-phone');
    assert.deepEqual([phone?.platform, phone?.online, phone?.gateway_id], ['ios', true, 'gw-dev']);
    await rejectsWith(rpc.SetPresence!({ user_id: eve, gateway_id: 'gw-dev', device_id: 'eve-phone', platform: 'fridge' }), grpc.status.INVALID_ARGUMENT, /platform/);
    await rpc.ClearPresence!({ user_id: eve, device_id: 'eve-phone' });

    // eve's laptop was never online: a message to eve waits in its sync.
    await rpc.SyncDevice!({ user_id: eve, device_id: 'eve-laptop' });
    const sent = (await rpc.SendMessage!({ sender_id: cid, receiver_id: eve, content: 'for every device of eve', device_id: 'cid-web' })).sent;
    const page = await waitFor('the message in the laptop sync', async () => {
      const p = await rpc.SyncDevice!({ user_id: eve, device_id: 'eve-laptop', limit: 10 });
      return p.items.some((i: any) => i.message?.message.message_id === sent.message_id) ? p : undefined;
    });
    const item = page.items.find((i: any) => i.message?.message.message_id === sent.message_id);
    assert.equal(item.item, 'message');
    assert.equal(item.message.message.content, 'for every device of eve');
    assert.equal(page.cursor, page.items.at(-1).id);
    const next = await rpc.SyncDevice!({ user_id: eve, device_id: 'eve-laptop', limit: 10, cursor: page.cursor });
    assert.ok(!next.items.some((i: any) => i.message?.message.message_id === sent.message_id), 'the confirmed page is gone');
    assert.deepEqual(await rpc.AckMessages!({ user_id: eve, message_ids: [sent.message_id], status: 'ACK_STATUS_READ', device_id: 'eve-laptop' }), { updated: 1 });

    assert.deepEqual(await rpc.RemoveDevice!({ user_id: eve, device_id: 'eve-laptop' }), {});
    const gone = await rejectsWith(rpc.RemoveDevice!({ user_id: eve, device_id: 'eve-laptop' }), grpc.status.NOT_FOUND);
    assert.deepEqual(gone.metadata.get('im-error-reason'), ['UNKNOWN_DEVICE']);
    await rejectsWith(rpc.SyncDevice!({ user_id: eve, device_id: '' }), grpc.status.INVALID_ARGUMENT, /device_id/);
  });

  it('answers the Python grpcio client (reflection, health, every v1 RPC, the seed protocol)', async (t) => {
    const python = pythonGrpc();
    if (!python.ok) return t.skip(python.why);
    const r = spawnSync(python.bin, [python.script], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, GRPC_TARGET: `127.0.0.1:${fleet.grpcPort}`, GRPC_TOKEN: TEST_TOKEN, PROTO_DIR, USER_BASE: String(base + 200n), HEALTH_PROTO_DIR: HEALTH_PROTO.dir },
    });
    assert.equal(r.status, 0, `grpc_check.py failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^ok: \d+ checks$/m);
  });
});
