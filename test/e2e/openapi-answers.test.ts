import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { Fleet } from '../support/fleet';
import { randomUserBase } from '../support/env';
import { apiClient } from '../support/api';
import { sharedValidator } from '../support/openapi';
import { waitFor } from '../support/wait';

/**
 * Every documented operation, called on the real fleet for a success and for its client errors.
 * The API client checks each answer against docs/openapi.yaml as it arrives; the last test checks
 * that every operation was seen with a 2xx and every /v1 operation with a 4xx.
 */
describe('OpenAPI: every route of the real fleet answers as documented', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const [ann, bob, eve, burst] = [id(1), id(2), id(3), id(4)];
  const group = id(100);

  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url, { IM_RATE_LIMIT_PER_SENDER_PER_S: '5', IM_MESSAGE_SERVICE_MAX_BODY_BYTES: '8192' }).startAll([
      'ingest-api',
      'worker-persist',
      'worker-fanout',
      'worker-delivery',
    ]);
  });

  after(async () => {
    await fleet?.stop();
    await db?.drop();
  });

  it('directory: users, groups, members', async () => {
    const api = fleet.api;
    for (const [u, name] of [[ann, 'ann'], [bob, 'bob'], [eve, 'eve'], [burst, 'burst']] as const) assert.equal((await api.put(`/v1/users/${u}`, { name })).status, 204);
    assert.equal((await api.put(`/v1/users/${ann}`, { name: '' })).status, 400);
    assert.equal((await api.put(`/v1/groups/${group}`, { name: 'team' })).status, 204);
    assert.equal((await api.put(`/v1/groups/${group}`, {})).status, 400);
    assert.equal((await api.post(`/v1/groups/${group}/members`, { add: [ann, bob] })).status, 200);
    assert.equal((await api.post(`/v1/groups/${group}/members`, { add: [id(999)] })).status, 404);
    assert.equal((await api.post(`/v1/groups/${group}/members`, {})).status, 400);
    assert.deepEqual((await api.get(`/v1/groups/${group}/members`)).body.members.sort(), [ann, bob].sort());
    assert.equal((await api.get(`/v1/groups/${id(998)}/members`)).status, 404);
    assert.equal((await api.get('/v1/groups/0/members')).status, 400);
  });

  it('sends: single, group, batch, with their errors', async () => {
    const api = fleet.api;
    assert.equal((await api.post('/v1/messages', { sender_id: ann, receiver_id: bob, content: 'hi', client_msg_id: 'oa-1' })).status, 202);
    assert.equal((await api.post('/v1/messages', { sender_id: ann, receiver_id: id(997), content: 'hi' })).status, 404);
    assert.equal((await api.post('/v1/messages', { sender_id: ann, receiver_id: bob, content: 'x'.repeat(9000) })).status, 413);
    assert.equal((await api.post('/v1/messages', { sender_id: ann, receiver_id: bob, content: 'hi', extra: 1 })).status, 400);
    assert.equal((await api.post('/v1/group-messages', { sender_id: ann, group_id: group, content: 'to the team' })).status, 202);
    assert.equal((await api.post('/v1/group-messages', { sender_id: eve, group_id: group, content: 'let me in' })).status, 403);
    assert.equal((await api.post('/v1/group-messages', { sender_id: ann, group_id: id(996), content: 'where?' })).status, 404);
    assert.equal((await api.post('/v1/group-messages', { sender_id: ann, group_id: group, content: '' })).status, 400);
    const batch = await api.post('/v1/messages/batch', { messages: [{ sender_id: bob, receiver_id: ann, content: 'ok' }, { sender_id: bob, content: 'no receiver' }, 7] });
    assert.equal(batch.status, 200);
    assert.deepEqual(batch.body.results.map((r: any) => r.error?.code ?? 'ok'), ['ok', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT']);
    assert.equal((await api.post('/v1/messages/batch', { messages: [] })).status, 400);
    // Over the sender's rate limit (5 per second here): 429 with Retry-After.
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => api.post('/v1/messages', { sender_id: burst, receiver_id: bob, content: `burst ${i}` })));
    const limited = answers.find((a) => a.status === 429);
    assert.ok(limited, `statuses ${answers.map((a) => a.status)}`);
    assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
  });

  it('offline pull, acks, history, search, conversations, recall', async () => {
    const api = fleet.api;
    const page = await waitFor('bob has offline messages', async () => {
      const r = await api.get(`/v1/users/${bob}/offline-messages?limit=10`);
      return r.body.messages.length >= 2 ? r : undefined;
    });
    assert.equal(page.status, 200);
    assert.equal((await api.get(`/v1/users/${bob}/offline-messages?limit=5000`)).status, 400);
    assert.equal((await api.get(`/v1/users/${id(995)}/offline-messages`)).status, 404);
    const ids = page.body.messages.map((m: any) => m.message_id);
    assert.equal((await api.post('/v1/acks', { user_id: bob, message_ids: ids, status: 'read' })).status, 200);
    assert.equal((await api.post('/v1/acks', { user_id: bob, message_ids: ids, status: 'seen' })).status, 400);

    const history = await waitFor('history of ann and bob', async () => {
      const r = await api.get(`/v1/users/${bob}/history?peer_id=${ann}&limit=10`);
      return r.body.messages.length >= 1 ? r : undefined;
    });
    assert.equal(history.status, 200);
    assert.equal((await api.get(`/v1/users/${bob}/history`)).status, 400);
    assert.equal((await api.get(`/v1/users/${eve}/history?group_id=${group}`)).status, 403);
    assert.equal((await api.get(`/v1/users/${bob}/history?peer_id=${id(994)}`)).status, 404);
    assert.equal((await api.get(`/v1/users/${bob}/search?keyword=hi`)).status, 200);
    assert.equal((await api.get(`/v1/users/${bob}/search`)).status, 400);
    assert.equal((await api.get(`/v1/users/${id(993)}/search?keyword=hi`)).status, 404);
    const convs = await api.get(`/v1/users/${bob}/conversations`);
    assert.equal(convs.status, 200);
    assert.ok(convs.body.conversations.length >= 2, 'a single and a group conversation');
    assert.equal((await api.get(`/v1/users/${bob}/conversations?limit=0`)).status, 400);
    assert.equal((await api.get(`/v1/users/${id(992)}/conversations`)).status, 404);

    const mine = history.body.messages.find((m: any) => m.sender_id === ann);
    assert.equal((await api.del(`/v1/messages/${mine.message_id}?user_id=${bob}`)).status, 403);
    assert.equal((await api.del(`/v1/messages/${mine.message_id}?user_id=${ann}`)).status, 200);
    // Repeating a recall answers as the first did; only an id never stored is unknown.
    assert.equal((await api.del(`/v1/messages/${mine.message_id}?user_id=${ann}`)).status, 200);
    assert.equal((await api.del(`/v1/messages/${id(991)}?user_id=${ann}`)).status, 404);
    assert.equal((await api.del(`/v1/messages/${mine.message_id}`)).status, 400);
  });

  it('presence and notifications', async () => {
    const api = fleet.api;
    assert.equal((await api.put(`/v1/presence/${bob}`, { gateway_id: 'gw-1', ttl_s: 30 })).status, 204);
    assert.equal((await api.put(`/v1/presence/${bob}`, { gateway_id: 'gw 1' })).status, 400);
    assert.equal((await api.del(`/v1/presence/${bob}`)).status, 204);
    assert.equal((await api.del('/v1/presence/abc')).status, 400);
    assert.equal((await api.post('/v1/notifications', { content: 'maintenance at noon' })).status, 202);
    assert.equal((await api.post('/v1/notifications', { content: 42 })).status, 400);
  });

  it('push tokens and mutes', async () => {
    const api = fleet.api;
    assert.equal((await api.put(`/v1/users/${bob}/devices/phone-1/push-token`, { platform: 'fcm', token: 'fcm-token-1' })).status, 204);
    assert.equal((await api.put(`/v1/users/${bob}/devices/phone-1/push-token`, { platform: 'sms', token: 'x' })).status, 400);
    assert.equal((await api.put(`/v1/users/${id(990)}/devices/phone-1/push-token`, { platform: 'fcm', token: 'x' })).status, 404);
    assert.equal((await api.del(`/v1/users/${bob}/devices/phone-1/push-token`)).status, 204);
    assert.equal((await api.del(`/v1/users/${bob}/devices/${'d'.repeat(65)}/push-token`)).status, 400);
    assert.equal((await api.call('PUT', `/v1/users/${bob}/mutes/g:${group}`)).status, 204);
    assert.equal((await api.call('PUT', `/v1/users/${bob}/mutes/s:${ann}:${eve}`)).status, 400);
    assert.equal((await api.del(`/v1/users/${bob}/mutes/g:${group}`)).status, 204);
    assert.equal((await api.del(`/v1/users/${bob}/mutes/g:${id(989)}`)).status, 404);
  });

  it('devices and their sync', async () => {
    const api = fleet.api;
    assert.equal((await api.put(`/v1/presence/${bob}`, { gateway_id: 'gw-1', device_id: 'phone', platform: 'android' })).status, 204);
    assert.equal((await api.get(`/v1/users/${bob}/devices`)).status, 200);
    assert.equal((await api.get('/v1/users/abc/devices')).status, 400);
    const page = await api.get(`/v1/users/${bob}/devices/phone/sync?limit=10`);
    assert.equal(page.status, 200);
    assert.equal((await api.get(`/v1/users/${bob}/devices/phone/sync?cursor=x`)).status, 400);
    assert.equal((await api.del(`/v1/users/${bob}/devices/phone`)).status, 204);
    assert.equal((await api.del(`/v1/users/${bob}/devices/phone`)).status, 404);
  });

  it('ops routes, without a token; /v1 refuses a missing or wrong one', async () => {
    const anonymous = apiClient(fleet.baseUrl, '');
    for (const path of ['/health', '/ready', '/health/dependencies', '/metrics', '/openapi.json', '/docs']) assert.equal((await anonymous.get(path)).status, 200, path);
    assert.equal((await anonymous.get(`/v1/groups/${group}/members`)).status, 401);
    assert.equal((await apiClient(fleet.baseUrl, 'wrong-token-0123456789').post('/v1/notifications', { content: 'x' })).status, 401);
    assert.equal((await fleet.api.get('/v1/nothing-here')).status, 404);
  });

  it('saw every documented operation answer with a success, and every /v1 operation with a client error', () => {
    const v = sharedValidator();
    const seen = [...v.seen].map((s) => s.split(' ') as [string, string]);
    const missing: string[] = [];
    for (const [template, item] of Object.entries(v.doc.paths)) {
      for (const op of Object.values(item)) {
        const statuses = seen.filter(([o]) => o === op!.operationId).map(([, s]) => Number(s));
        if (!statuses.some((s) => s >= 200 && s < 300)) missing.push(`${op!.operationId}: no 2xx`);
        if (template.startsWith('/v1/') && !statuses.some((s) => s >= 400 && s < 500)) missing.push(`${op!.operationId}: no 4xx`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
