import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { loadConfig } from '@im/config';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import { createIngest } from '../../apps/ingest-api/src/ingest';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testServers, uniqueName } from '../support/env';

describe('push tokens and mutes through the API (in process, real MariaDB)', () => {
  let db: TestDatabase;
  let ingest: Awaited<ReturnType<typeof createIngest>>;
  const base = randomUserBase();
  const [ann, bob, eve] = [1n, 2n, 3n].map((n) => String(base + n)) as [string, string, string];
  const group = String(base + 100n);

  before(async () => {
    db = await createTestDatabase();
    const config = loadConfig({ env: { REDIS_URL: testServers().redisUrl, MYSQL_URL: db.url, IM_API_TOKENS: TEST_TOKEN, IM_QUEUE_PREFIX: `{${uniqueName('imt')}}` } });
    ingest = await createIngest(config, createLogger('ingest-api', 'silent'), createMetrics('ingest-api'));
    await ingest.app.ready();
    for (const u of [ann, bob, eve]) assert.equal((await call('PUT', `/v1/users/${u}`, { name: 'u' })).status, 204);
    assert.equal((await call('PUT', `/v1/groups/${group}`, { name: 'g' })).status, 204);
  });

  after(async () => {
    if (ingest) for (const [, run] of ingest.shutdownSteps) await run();
    await db?.drop();
  });

  async function call(method: 'PUT' | 'DELETE', url: string, payload?: unknown) {
    const res = await ingest.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${TEST_TOKEN}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
      payload: payload === undefined ? undefined : JSON.stringify(payload),
    });
    return { status: res.statusCode, body: res.body ? res.json() : undefined };
  }
  const tokens = async () => (await db.pool.query<RowDataPacket[]>('SELECT user_id, device_id, platform, token FROM push_token ORDER BY user_id, device_id'))[0].map((r) => ({ user_id: String(r.user_id), device_id: String(r.device_id), platform: String(r.platform), token: String(r.token) }));
  const mutes = async () => (await db.pool.query<RowDataPacket[]>('SELECT user_id, conversation FROM conversation_mute ORDER BY user_id, conversation'))[0].map((r) => `${r.user_id}/${r.conversation}`);

  it('registers one token per device, replaced by the next registration, removed by DELETE', async () => {
    assert.equal((await call('PUT', `/v1/users/${ann}/devices/phone/push-token`, { platform: 'fcm', token: 'f1' })).status, 204);
    assert.equal((await call('PUT', `/v1/users/${ann}/devices/phone/push-token`, { platform: 'apns', token: 'a1b2' })).status, 204);
    assert.equal((await call('PUT', `/v1/users/${ann}/devices/tablet/push-token`, { platform: 'webhook', token: 'w1' })).status, 204);
    assert.deepEqual(await tokens(), [
      { user_id: ann, device_id: 'phone', platform: 'apns', token: 'a1b2' },
      { user_id: ann, device_id: 'tablet', platform: 'webhook', token: 'w1' },
    ]);
    assert.equal((await call('DELETE', `/v1/users/${ann}/devices/tablet/push-token`)).status, 204);
    assert.equal((await call('DELETE', `/v1/users/${ann}/devices/tablet/push-token`)).status, 204, 'again: nothing to remove, same answer');
    assert.deepEqual((await tokens()).map((t) => t.device_id), ['phone']);
  });

  it('refuses bad input with a message naming the field, and changes nothing', async () => {
    const before = await tokens();
    const bad: [string, unknown, RegExp][] = [
      [`/v1/users/${ann}/devices/phone/push-token`, { platform: 'sms', token: 't' }, /platform must be one of fcm, apns, webhook/],
      [`/v1/users/${ann}/devices/phone/push-token`, { platform: 'fcm', token: 'has space' }, /token must be/],
      [`/v1/users/${ann}/devices/phone/push-token`, { platform: 'fcm', token: 'x'.repeat(4097) }, /token must be/],
      [`/v1/users/${ann}/devices/phone/push-token`, { platform: 'fcm', token: 't', extra: 1 }, /extra/],
      [`/v1/users/${ann}/devices/phone/push-token`, { platform: 'fcm' }, /token/],
      [`/v1/users/${ann}/devices/ph%20one/push-token`, { platform: 'fcm', token: 't' }, /device_id must be/],
      [`/v1/users/abc/devices/phone/push-token`, { platform: 'fcm', token: 't' }, /user_id must be/],
    ];
    for (const [url, body, message] of bad) {
      const r = await call('PUT', url, body);
      assert.equal(r.status, 400, url);
      assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
      assert.match(r.body.error.message, message);
    }
    const unknown = await call('PUT', `/v1/users/${String(base + 999n)}/devices/phone/push-token`, { platform: 'fcm', token: 't' });
    assert.equal(unknown.status, 404);
    assert.deepEqual(await tokens(), before);
  });

  it('mutes a conversation of the user (single chat in either order, or a known group), once; unmutes it', async () => {
    assert.equal((await call('PUT', `/v1/users/${bob}/mutes/s:${bob}:${ann}`)).status, 204);
    assert.equal((await call('PUT', `/v1/users/${bob}/mutes/s:${ann}:${bob}`)).status, 204);
    assert.equal((await call('PUT', `/v1/users/${bob}/mutes/g:${group}`)).status, 204);
    const low = BigInt(ann) < BigInt(bob) ? `${ann}:${bob}` : `${bob}:${ann}`;
    assert.deepEqual(await mutes(), [`${bob}/g:${group}`, `${bob}/s:${low}`].sort());
    for (const [conversation, status] of [[`s:${ann}:${eve}`, 400], ['x:1', 400], [`g:${String(base + 998n)}`, 404], ['s:0:1', 400]] as const) {
      assert.equal((await call('PUT', `/v1/users/${bob}/mutes/${conversation}`)).status, status, conversation);
    }
    assert.equal((await mutes()).length, 2, 'refused mutes changed nothing');
    assert.equal((await call('DELETE', `/v1/users/${bob}/mutes/s:${ann}:${bob}`)).status, 204);
    assert.deepEqual(await mutes(), [`${bob}/g:${group}`]);
  });
});
