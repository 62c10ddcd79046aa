import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { PushNotice } from '../../apps/worker-push/src/providers/provider';
import { webhookProvider } from '../../apps/worker-push/src/providers/webhook';
import { fcmProvider } from '../../apps/worker-push/src/providers/fcm';
import { apnsProvider } from '../../apps/worker-push/src/providers/apns';
import { FakeApns, FakeFcm, FakeWebhook } from '../support/fake-providers';

const notice = (count = 2, content?: string): PushNotice => ({
  user_id: '9007199254740993',
  device_id: 'default',
  count,
  collapse_id: 's:9007199254740992:9007199254740993',
  message: {
    message_id: '123456789',
    seq: 7,
    sender_id: '9007199254740992',
    receiver_id: '9007199254740993',
    group_id: null,
    conversation: 's:9007199254740992:9007199254740993',
    message_type: 'text',
    timestamp: 1_700_000_000_000,
    ...(content !== undefined ? { content } : {}),
  },
});
const TIMEOUT_MS = 300;

describe('push providers against local fakes speaking their wire formats', () => {
  describe('webhook', () => {
    const secret = 'webhook-secret-abcdef';
    let fake: FakeWebhook;
    before(async () => (fake = await new FakeWebhook(secret).start()));
    after(() => fake.close());
    const provider = () => webhookProvider({ url: fake.url, secret, timeoutMs: TIMEOUT_MS });

    it('POSTs the documented body, signed over timestamp and body', async () => {
      assert.deepEqual(await provider().send('tok-1', notice()), { kind: 'sent', status: 200 });
      const got = fake.received.at(-1)!;
      assert.deepEqual(got.body, { event: 'push', user_id: '9007199254740993', device_id: 'default', token: 'tok-1', count: 2, collapse_id: notice().collapse_id, message: notice().message });
      assert.match(String(got.headers['x-im-signature']), /^v1=[0-9a-f]{64}$/);
    });

    it('a wrong secret is refused by the receiver (the signature is checked, not just present)', async () => {
      const out = await webhookProvider({ url: fake.url, secret: 'another-secret', timeoutMs: TIMEOUT_MS }).send('tok-1', notice());
      assert.deepEqual(out, { kind: 'refused', status: 401, reason: 'HTTP 401' });
      assert.equal(fake.refusedSignatures.length, 1);
    });

    it('429 with Retry-After, 5xx, a timeout: retried; 410: the token is gone', async () => {
      fake.failures.push({ status: 429, retryAfter: '17' }, { status: 503 }, { delayMs: TIMEOUT_MS * 3 });
      assert.deepEqual(await provider().send('t', notice()), { kind: 'retry', reason: 'HTTP 429', retryAfterS: 17, status: 429 });
      assert.deepEqual(await provider().send('t', notice()), { kind: 'retry', reason: 'HTTP 503', status: 503 });
      assert.deepEqual(await provider().send('t', notice()), { kind: 'retry', reason: `no answer within ${TIMEOUT_MS} ms` });
      fake.goneTokens.add('gone');
      assert.deepEqual(await provider().send('gone', notice()), { kind: 'bad_token', reason: 'HTTP 410' });
    });
  });

  describe('FCM HTTP v1', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    let fake: FakeFcm;
    let account: { project_id: string; client_email: string; private_key: string; private_key_id: string; token_uri: string };
    before(async () => {
      fake = await new FakeFcm({ publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), clientEmail: 'im@proj.iam.gserviceaccount.com', projectId: 'proj-1' }).start();
      account = { project_id: 'proj-1', client_email: 'im@proj.iam.gserviceaccount.com', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), private_key_id: 'k1', token_uri: fake.tokenUri };
    });
    after(() => fake.close());
    const provider = () => fcmProvider({ account, endpoint: fake.url, timeoutMs: TIMEOUT_MS });

    it('exchanges a signed assertion for an access token once, and sends data messages with it', async () => {
      const p = provider();
      assert.deepEqual(await p.send('fcm-a', notice(3)), { kind: 'sent' });
      assert.deepEqual(await p.send('fcm-b', notice(1, 'hello')), { kind: 'sent' });
      assert.equal(fake.tokenRequests.length, 1, 'the token is cached until it expires');
      assert.equal(fake.tokenRequests[0]!.claims.scope, 'https://www.googleapis.com/auth/firebase.messaging');
      const [a, b] = fake.received.slice(-2).map((r) => r.body.message);
      assert.deepEqual(a, {
        token: 'fcm-a',
        data: {
          type: 'im.push', count: '3', message_id: '123456789', seq: '7', sender_id: '9007199254740992', receiver_id: '9007199254740993', group_id: '',
          conversation: notice().collapse_id, message_type: 'text', timestamp: '1700000000000',
        },
        android: { collapse_key: notice().collapse_id, priority: 'high' },
        apns: { headers: { 'apns-collapse-id': notice().collapse_id } },
      });
      assert.equal(b.data.content, 'hello');
    });

    it('a token refused with 401 (expired) is fetched again and the push retried', async () => {
      const p = provider();
      assert.deepEqual(await p.send('fcm-a', notice()), { kind: 'sent' });
      const before = fake.tokenRequests.length;
      fake.expireAccessTokens();
      assert.equal((await p.send('fcm-a', notice())).kind, 'retry');
      assert.deepEqual(await p.send('fcm-a', notice()), { kind: 'sent' });
      assert.equal(fake.tokenRequests.length, before + 1);
    });

    it('UNREGISTERED (404) is a gone token; 429 with Retry-After, 5xx and a timeout retry', async () => {
      const p = provider();
      fake.goneTokens.add('fcm-gone');
      assert.deepEqual(await p.send('fcm-gone', notice()), { kind: 'bad_token', reason: 'UNREGISTERED' });
      fake.failures.push({ status: 429, retryAfter: '30' }, { status: 500 }, { delayMs: TIMEOUT_MS * 3 });
      assert.deepEqual(await p.send('fcm-a', notice()), { kind: 'retry', reason: 'HTTP 429 QUOTA_EXCEEDED', retryAfterS: 30 });
      assert.deepEqual(await p.send('fcm-a', notice()), { kind: 'retry', reason: 'HTTP 500 UNAVAILABLE' });
      assert.deepEqual(await p.send('fcm-a', notice()), { kind: 'retry', reason: `no answer within ${TIMEOUT_MS} ms` });
    });

    it('a key the token endpoint does not trust gets no access token and sends nothing', async () => {
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const sent = fake.received.length;
      const out = await fcmProvider({ account: { ...account, private_key: other }, endpoint: fake.url, timeoutMs: TIMEOUT_MS }).send('fcm-a', notice());
      assert.equal(out.kind, 'retry');
      assert.equal(fake.received.length, sent);
    });
  });

  describe('APNs over HTTP/2', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const p8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const cfg = { keyId: 'ABC123DEFG', teamId: 'TEAM123456', topic: 'com.example.im' };
    let fake: FakeApns;
    const providers: { close?(): Promise<void> }[] = [];
    before(async () => (fake = await new FakeApns({ publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), ...cfg }).start()));
    after(async () => {
      for (const p of providers) await p.close?.();
      await fake.close();
    });
    const provider = (over: Partial<typeof cfg> & { key?: string } = {}) => {
      const p = apnsProvider({ key: over.key ?? p8, keyId: over.keyId ?? cfg.keyId, teamId: over.teamId ?? cfg.teamId, topic: over.topic ?? cfg.topic, endpoint: fake.url, timeoutMs: TIMEOUT_MS });
      providers.push(p);
      return p;
    };

    it('sends with an ES256 provider token and the apns-* headers the fake verifies', async () => {
      const p = provider();
      assert.deepEqual(await p.send('a1b2c3', notice(3)), { kind: 'sent' });
      assert.deepEqual(await p.send('a1b2c3', notice(1, 'hi there')), { kind: 'sent' });
      const [first, second] = fake.received.slice(-2);
      assert.equal(first!.headers['apns-topic'], cfg.topic);
      assert.equal(first!.headers['apns-push-type'], 'alert');
      assert.equal(first!.headers['apns-collapse-id'], notice().collapse_id);
      assert.equal(first!.headers.authorization, second!.headers.authorization, 'one provider token for both');
      assert.deepEqual(first!.body.aps, { alert: { 'loc-key': 'IM_NEW_MESSAGES', 'loc-args': ['3'] }, 'thread-id': notice().collapse_id, 'mutable-content': 1 });
      assert.equal(first!.body.im.content, undefined);
      assert.deepEqual(second!.body.aps.alert, { body: 'hi there' });
    });

    it('a wrong key or team is refused by the fake (the JWT is verified, not just present)', async () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      assert.deepEqual(await provider({ key: other }).send('a1b2c3', notice()), { kind: 'retry', reason: 'InvalidProviderToken: a new provider token is signed' });
      assert.deepEqual(await provider({ teamId: 'OTHERTEAM1' }).send('a1b2c3', notice()), { kind: 'retry', reason: 'InvalidProviderToken: a new provider token is signed' });
      assert.deepEqual(await provider({ topic: 'com.other' }).send('a1b2c3', notice()), { kind: 'refused', status: 400, reason: 'BadTopic' });
    });

    it('410 Unregistered and BadDeviceToken are gone tokens; 429 with Retry-After, 503 and a timeout retry', async () => {
      const p = provider();
      fake.goneTokens.add('dead01');
      fake.badTokens.add('bad02');
      assert.deepEqual(await p.send('dead01', notice()), { kind: 'bad_token', reason: 'Unregistered' });
      assert.deepEqual(await p.send('bad02', notice()), { kind: 'bad_token', reason: 'BadDeviceToken' });
      fake.failures.push({ status: 429, retryAfter: '9' }, { status: 503 }, { delayMs: TIMEOUT_MS * 3 });
      assert.deepEqual(await p.send('a1b2c3', notice()), { kind: 'retry', reason: 'TooManyRequests', retryAfterS: 9 });
      assert.deepEqual(await p.send('a1b2c3', notice()), { kind: 'retry', reason: 'ServiceUnavailable' });
      assert.deepEqual(await p.send('a1b2c3', notice()), { kind: 'retry', reason: `no answer within ${TIMEOUT_MS} ms` });
      assert.deepEqual(await p.send('a1b2c3', notice()), { kind: 'sent' }, 'the session still works after a cancelled stream');
    });
  });
});
