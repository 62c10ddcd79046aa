import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import { FakeApns, FakeFcm, FakeWebhook } from '../support/fake-providers';
import { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { OpenApiValidator } from '../support/openapi';
import { waitFor } from '../support/wait';

const SECRET = 'push-webhook-secret-0123456789';
const WINDOW_MS = 1500;

describe('push to offline devices through the signed webhook, FCM and APNs (real processes, Redis, MariaDB, local fake providers)', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let hook: FakeWebhook;
  let fcm: FakeFcm;
  let apns: FakeApns;
  const keys = mkdtempSync(join(tmpdir(), 'im-push-keys-'));
  let gateway: GatewaySimulator;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const [alice, bob, carol, dave, erin, frank] = [id(1), id(2), id(3), id(4), id(5), id(6)];

  before(async () => {
    hook = await new FakeWebhook(SECRET).start();
    // FCM: a service account whose token_uri is the fake's; APNs: a .p8 key whose public half the fake holds.
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    fcm = await new FakeFcm({ publicKeyPem: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(), clientEmail: 'im@proj.iam.gserviceaccount.com', projectId: 'proj-e2e' }).start();
    writeFileSync(
      join(keys, 'fcm.json'),
      JSON.stringify({ type: 'service_account', project_id: 'proj-e2e', private_key_id: 'k1', private_key: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }), client_email: 'im@proj.iam.gserviceaccount.com', token_uri: fcm.tokenUri }),
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    apns = await new FakeApns({ publicKeyPem: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString(), keyId: 'KEY1234567', teamId: 'TEAM123456', topic: 'com.example.im' }).start();
    writeFileSync(join(keys, 'apns.p8'), ec.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    db = await createTestDatabase();
    fleet = await new Fleet(db.url, {
      IM_PUSH_FCM_CREDENTIALS_FILE: join(keys, 'fcm.json'),
      IM_PUSH_FCM_ENDPOINT: fcm.url,
      IM_PUSH_APNS_KEY_FILE: join(keys, 'apns.p8'),
      IM_PUSH_APNS_KEY_ID: 'KEY1234567',
      IM_PUSH_APNS_TEAM_ID: 'TEAM123456',
      IM_PUSH_APNS_TOPIC: 'com.example.im',
      IM_PUSH_APNS_ENDPOINT: apns.url,
      IM_PUSH_ENABLED: 'true',
      IM_PUSH_WEBHOOK_URL: hook.url,
      IM_PUSH_WEBHOOK_SECRET: SECRET,
      IM_PUSH_COLLAPSE_WINDOW_MS: String(WINDOW_MS),
      IM_PUSH_TIMEOUT_MS: '1000',
      IM_QUEUE_MAX_BACKOFF_MS: '1000',
      // A publish not acknowledged within 2 s is stored offline (and pushed).
      IM_MESSAGE_LIMITS_ACK_TIMEOUT_S: '2',
    }).startAll(['ingest-api', 'worker-persist', 'worker-delivery', 'worker-push']);
    for (const u of [alice, bob, carol, dave, erin, frank]) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: `u${u.slice(-1)}` })).status, 204);
    gateway = new GatewaySimulator(fleet.api);
  });

  after(async () => {
    await gateway?.close();
    await fleet?.stop();
    await db?.drop();
    await hook?.close();
    await fcm?.close();
    await apns?.close();
    rmSync(keys, { recursive: true, force: true });
  });

  const register = async (user: string, token: string, platform = 'webhook') =>
    assert.equal((await fleet.api.put(`/v1/users/${user}/devices/default/push-token`, { platform, token })).status, 204);
  const pushesTo = (user: string) => hook.received.filter((r) => r.body.user_id === user);
  const tokenOf = async (user: string) => {
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT token FROM push_token WHERE user_id = ?', [user]);
    return rows[0]?.token as string | undefined;
  };

  it('a burst to a receiver with no online device is one signed push per device per window, with the count and no text', async () => {
    await register(bob, 'tok-bob');
    const sent = await fleet.api.post('/v1/messages/batch', {
      messages: [1, 2, 3].map((n) => ({ sender_id: alice, receiver_id: bob, content: `secret ${n}`, client_msg_id: `b-${n}` })),
    });
    assert.equal(sent.status, 200);
    const ids = sent.body.results.map((r: { message_id: string }) => r.message_id);
    const [push] = await waitFor('the push to bob', () => (pushesTo(bob).length > 0 ? pushesTo(bob) : undefined));
    // The window's newest message, ids only: no content unless push.include_content.
    assert.deepEqual(push!.body, {
      event: 'push',
      user_id: bob,
      device_id: 'default',
      token: 'tok-bob',
      count: 3,
      collapse_id: `s:${alice}:${bob}`,
      message: {
        message_id: ids[2],
        seq: 3,
        sender_id: alice,
        receiver_id: bob,
        group_id: null,
        conversation: `s:${alice}:${bob}`,
        message_type: 'text',
        timestamp: sent.body.results[2].timestamp,
      },
    });
    // The messages are stored offline as ever: the push is a hint on top.
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message WHERE user_id = ?', [bob]);
    assert.equal(Number(rows[0]!.n), 3);
    // A later message opens a new window: one more push, counting one.
    await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: bob, content: 'later' });
    await waitFor('the second window', () => pushesTo(bob).length === 2);
    assert.equal(pushesTo(bob)[1]!.body.count, 1);
    assert.ok(pushesTo(bob)[1]!.at - push!.at >= WINDOW_MS - 50, 'two pushes of one device are a window apart');
    assert.deepEqual(hook.refusedSignatures, []);
    const doc = new OpenApiValidator();
    for (const r of hook.received) assert.deepEqual(doc.checkSchema('PushWebhook', r.body), [], 'as documented (docs/openapi.yaml)');
    assert.match(doc.checkSchema('PushWebhook', { ...push!.body, count: '3' }).join(), /count must be integer/, 'the check can fail');
  });

  it('sends nothing for a muted conversation, nor to a receiver that is online', async () => {
    await register(carol, 'tok-carol');
    assert.equal((await fleet.api.call('PUT', `/v1/users/${carol}/mutes/s:${carol}:${alice}`)).status, 204);
    await gateway.connect([dave]);
    await register(dave, 'tok-dave');
    const sent = await fleet.api.post('/v1/messages/batch', {
      messages: [
        { sender_id: alice, receiver_id: carol, content: 'muted' },
        { sender_id: bob, receiver_id: carol, content: 'not muted' },
        { sender_id: alice, receiver_id: dave, content: 'online' },
      ],
    });
    assert.equal(sent.status, 200);
    const [online] = await gateway.waitForCount(dave, 1);
    // The gateway confirms it as delivered: nothing is redelivered, and nothing pushed.
    assert.equal((await gateway.ack(dave, [online.message_id])).status, 200);
    const [push] = await waitFor('the push to carol', () => (pushesTo(carol).length > 0 ? pushesTo(carol) : undefined));
    assert.equal(push!.body.count, 1, 'the muted conversation counts nothing');
    assert.equal(push!.body.message.sender_id, bob);
    // Unmuted, the conversation pushes again.
    assert.equal((await fleet.api.del(`/v1/users/${carol}/mutes/s:${alice}:${carol}`)).status, 204);
    await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: carol, content: 'again' });
    await waitFor('the unmuted push', () => pushesTo(carol).length === 2);
    assert.equal(pushesTo(carol)[1]!.body.message.sender_id, alice);
    assert.equal(pushesTo(dave).length, 0, 'an online receiver gets no push');
  });

  it('a publish the online device never acknowledges is stored offline after ack_timeout_s, and pushed to that device', async () => {
    const grace = id(11);
    assert.equal((await fleet.api.put(`/v1/users/${grace}`, { name: 'grace' })).status, 204);
    await register(grace, 'tok-grace');
    await gateway.connect([grace]);
    const sent = await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: grace, content: 'seen by nobody' });
    assert.equal(sent.status, 202);
    await gateway.waitForCount(grace, 1);
    assert.equal(pushesTo(grace).length, 0, 'published online: no push yet');
    // No ack: redelivery stores it offline, and the device gets its push.
    const [push] = await waitFor('the push of the redelivered message', () => (pushesTo(grace).length > 0 ? pushesTo(grace) : undefined), 20_000);
    assert.equal(push!.body.message.message_id, sent.body.message_id);
    assert.equal(push!.body.count, 1);
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT message_id FROM offline_message WHERE user_id = ?', [grace]);
    assert.deepEqual(rows.map((r) => String(r.message_id)), [sent.body.message_id]);
    assert.equal(pushesTo(alice).length, 0, 'the sender gets none');
  });

  it('removes a token after its first refusal and sends it nothing more', async () => {
    await register(erin, 'tok-erin-gone');
    hook.goneTokens.add('tok-erin-gone');
    const before = hook.attempts.length;
    await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: erin, content: 'to a gone device' });
    await waitFor('the token removed', async () => (await tokenOf(erin)) === undefined);
    assert.equal(hook.attempts.slice(before).filter((a) => a.status === 410).length, 1, 'refused once, not retried');
    await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: frank, content: 'marker' });
    await register(frank, 'tok-frank');
    await fleet.api.post('/v1/messages', { sender_id: erin, receiver_id: frank, content: 'marker 2' });
    await waitFor('a later push elsewhere', () => pushesTo(frank).length > 0);
    assert.equal(hook.attempts.slice(before).filter((a) => a.status === 410).length, 1, 'no second attempt for the removed token');
  });

  it('a provider that is down delays pushes, loses none and holds no delivery back; Retry-After is honoured', async () => {
    const [x, y] = [id(7), id(8)];
    for (const u of [x, y]) {
      assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: 'u' })).status, 204);
      await register(u, `tok-${u}`);
    }
    hook.down = { status: 503, retryAfter: '1' };
    const started = Date.now();
    await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: x, content: 'during the outage' });
    await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: y, content: 'during the outage' });
    // Delivery goes on: both messages are stored offline while every push is refused.
    await waitFor('offline rows during the outage', async () => {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message WHERE user_id IN (?, ?)', [x, y]);
      return Number(rows[0]!.n) === 2;
    });
    await waitFor('several refused attempts', () => hook.attempts.filter((a) => a.at >= started && a.status === 503).length >= 4, 30_000);
    assert.equal(pushesTo(x).length + pushesTo(y).length, 0);
    hook.down = undefined;
    await waitFor('both pushes after the outage', () => pushesTo(x).length === 1 && pushesTo(y).length === 1, 30_000);
    assert.equal(pushesTo(x)[0]!.body.count, 1);
    assert.equal(pushesTo(y)[0]!.body.count, 1);
    // Retry-After: 1 (over a backoff that starts at 100 ms): a push's attempts are never closer than that.
    for (const u of [x, y]) {
      const times = hook.attempts.filter((a) => a.at >= started && a.key === u).map((a) => a.at);
      assert.ok(times.length >= 2, `${u}: ${times.length} attempts`);
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 950, `${u}: attempts ${times[i]! - times[i - 1]!} ms apart`);
    }
  });

  it("FCM and APNs devices get one push per window in each provider's format, and lose a token on its first refusal", async () => {
    const [g, h, gGone, hGone] = [id(11), id(12), id(13), id(14)];
    for (const u of [g, h, gGone, hGone]) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: 'u' })).status, 204);
    await register(g, 'fcm-token-g', 'fcm');
    await register(h, 'a0b1c2d3e4f5', 'apns');
    await register(gGone, 'fcm-token-gone', 'fcm');
    await register(hGone, 'deadbeef', 'apns');
    fcm.goneTokens.add('fcm-token-gone');
    apns.goneTokens.add('deadbeef');
    const sent = await fleet.api.post('/v1/messages/batch', {
      messages: [g, g, h, h, h, gGone, hGone].map((r, i) => ({ sender_id: alice, receiver_id: r, content: `text ${i}` })),
    });
    assert.equal(sent.status, 200);
    await waitFor('the FCM and APNs pushes', () => fcm.received.length === 1 && apns.received.length === 1);
    const f = fcm.received[0]!.body.message;
    assert.equal(f.token, 'fcm-token-g');
    assert.equal(f.data.count, '2');
    assert.equal(f.data.message_id, sent.body.results[1].message_id);
    assert.equal(f.data.content, undefined, 'no text without push.include_content');
    assert.equal(f.android.collapse_key, `s:${alice}:${g}`);
    const a = apns.received[0]!;
    assert.equal(a.headers.token, 'a0b1c2d3e4f5');
    assert.deepEqual(a.body.aps.alert, { 'loc-key': 'IM_NEW_MESSAGES', 'loc-args': ['3'] });
    assert.equal(a.body.im.message_id, sent.body.results[4].message_id);
    assert.equal(a.headers['apns-collapse-id'], `s:${alice}:${h}`);
    assert.equal(fcm.tokenRequests.length, 1, 'one OAuth exchange');
    await waitFor('both gone tokens removed', async () => (await tokenOf(gGone)) === undefined && (await tokenOf(hGone)) === undefined);
    assert.equal(apns.refused.filter((r) => r.status === 410).length, 1);
    assert.equal(fcm.attempts.filter((x) => x.status === 404).length, 1);
  });
});
