import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { loadConfig } from '@im/config';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import { ERROR_REASONS } from '@im/errors';
import { createIngest } from '../../apps/ingest-api/src/ingest';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testServers, uniqueName } from '../support/env';
import { PrivateRedis } from '../support/private-redis';
import { waitFor } from '../support/wait';

type Ingest = Awaited<ReturnType<typeof createIngest>>;

async function ingestWith(db: TestDatabase, prefix: string, env: Record<string, string> = {}): Promise<Ingest> {
  const config = loadConfig({
    env: {
      REDIS_URL: testServers().redisUrl,
      MYSQL_URL: db.url,
      IM_API_TOKENS: TEST_TOKEN,
      IM_QUEUE_PREFIX: prefix,
      IM_MESSAGE_SERVICE_MAX_BODY_BYTES: '200000',
      ...env,
    },
  });
  return createIngest(config, createLogger('ingest-api', 'silent'), createMetrics('ingest-api'));
}

async function close(ingest: Ingest): Promise<void> {
  for (const [, run] of ingest.shutdownSteps) await run();
}

describe('ingest API: every contract error for bad input, and nothing written', () => {
  let db: TestDatabase;
  let ingest: Ingest;
  const prefix = `{${uniqueName('imt')}}`;
  const base = randomUserBase();
  const alice = String(base + 1n);
  const bob = String(base + 2n);
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };

  const send = (method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    ingest.app.inject({
      method: method as 'POST',
      url,
      headers: { ...auth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      payload: payload === undefined ? undefined : typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
    });

  const expectError = async (res: Awaited<ReturnType<typeof send>>, status: number, code: string, mentions?: RegExp, reason?: string) => {
    assert.equal(res.statusCode, status, res.body);
    const body = res.json();
    assert.equal(body.error.code, code);
    assert.ok((ERROR_REASONS as Record<string, readonly string[]>)[code]!.includes(body.error.reason), `reason ${body.error.reason} of ${code}`);
    if (reason) assert.equal(body.error.reason, reason);
    assert.equal(typeof body.error.message, 'string');
    if (mentions) assert.match(body.error.message, mentions);
  };

  before(async () => {
    db = await createTestDatabase();
    ingest = await ingestWith(db, prefix);
    assert.equal((await send('PUT', `/v1/users/${alice}`, { name: 'alice' })).statusCode, 204);
    assert.equal((await send('PUT', `/v1/users/${bob}`, { name: 'bob' })).statusCode, 204);
  });

  after(async () => {
    await close(ingest);
    const q = new Queue('im.persist', { connection: { url: testServers().redisUrl } as never, prefix });
    await q.obliterate({ force: true });
    await q.close();
    await db.drop();
  });

  it('refuses a missing or wrong bearer token with 401', async () => {
    const noToken = await ingest.app.inject({ method: 'POST', url: '/v1/messages', payload: { sender_id: alice, receiver_id: bob, content: 'x' } });
    await expectError(noToken, 401, 'UNAUTHENTICATED', /bearer/i, 'MISSING_TOKEN');
    await expectError(await send('POST', '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'x' }, { authorization: 'Bearer wrong-token-0000000000' }), 401, 'UNAUTHENTICATED', undefined, 'INVALID_TOKEN');
    await expectError(await send('GET', `/v1/users/${alice}/offline-messages`, undefined, { authorization: `Basic ${TEST_TOKEN}` }), 401, 'UNAUTHENTICATED');
    assert.equal((await ingest.app.inject({ method: 'GET', url: '/health' })).statusCode, 200, '/health needs no token');
  });

  const badSends: [string, unknown, RegExp][] = [
    ['malformed JSON', '{"sender_id": 1,', /not valid JSON/],
    ['a JSON array', '[1,2]', /JSON object/],
    ['a JSON string', '"hello"', /JSON object/],
    ['missing sender_id', { receiver_id: '2', content: 'x' }, /sender_id/],
    ['missing content', { sender_id: '1', receiver_id: '2' }, /content/],
    ['id zero', { sender_id: 0, receiver_id: '2', content: 'x' }, /sender_id/],
    ['negative id', { sender_id: -5, receiver_id: '2', content: 'x' }, /sender_id/],
    ['id 2^63', { sender_id: '9223372036854775808', receiver_id: '2', content: 'x' }, /sender_id.*2\^63/],
    ['id far above 2^63', { sender_id: '1'.repeat(30), receiver_id: '2', content: 'x' }, /sender_id/],
    ['non-numeric id', { sender_id: 'abc', receiver_id: '2', content: 'x' }, /sender_id/],
    ['id with leading zero', { sender_id: '012', receiver_id: '2', content: 'x' }, /sender_id/],
    ['unsafe JSON integer id', '{"sender_id": 9007199254740993, "receiver_id": "2", "content": "x"}', /sender_id/],
    ['fractional id', { sender_id: 1.5, receiver_id: '2', content: 'x' }, /sender_id/],
    ['id as boolean', { sender_id: true, receiver_id: '2', content: 'x' }, /sender_id/],
    ['empty content', { sender_id: '1', receiver_id: '2', content: '' }, /content.*1 to 4096/],
    ['content too long', { sender_id: '1', receiver_id: '2', content: 'x'.repeat(4097) }, /content.*4097/],
    ['content as number', { sender_id: '1', receiver_id: '2', content: 5 }, /content/],
    ['unpaired surrogate', '{"sender_id":"1","receiver_id":"2","content":"\\ud800"}', /Unicode/],
    ['unknown message_type', { sender_id: '1', receiver_id: '2', content: 'x', message_type: 'video' }, /message_type/],
    ['bad client_msg_id', { sender_id: '1', receiver_id: '2', content: 'x', client_msg_id: 'has space' }, /client_msg_id/],
    ['client_msg_id too long', { sender_id: '1', receiver_id: '2', content: 'x', client_msg_id: 'a'.repeat(65) }, /client_msg_id/],
    ['unknown field', { sender_id: '1', receiver_id: '2', content: 'x', priority: 1 }, /unknown field priority/],
  ];
  for (const [name, payload, mentions] of badSends) {
    it(`answers 400 INVALID_ARGUMENT for ${name}`, async () => {
      await expectError(await send('POST', '/v1/messages', payload), 400, 'INVALID_ARGUMENT', mentions);
    });
  }

  it('refuses invalid UTF-8 bytes instead of replacing them', async () => {
    const bytes = Buffer.concat([Buffer.from(`{"sender_id":"${alice}","receiver_id":"${bob}","content":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    await expectError(await send('POST', '/v1/messages', bytes), 400, 'INVALID_ARGUMENT', /UTF-8/, 'MALFORMED_BODY');
  });

  it('counts characters, not bytes or UTF-16 units: 4096 emoji are accepted', async () => {
    // The first send of the file: on a loaded machine its first Redis and MySQL calls can outlast
    // their bounds (503, nothing queued); a gateway retries that, and so does this test, twice.
    let res = await send('POST', '/v1/messages', { sender_id: alice, receiver_id: bob, content: '😀'.repeat(4096) });
    for (let retry = 0; retry < 2 && res.statusCode === 503; retry++) res = await send('POST', '/v1/messages', { sender_id: alice, receiver_id: bob, content: '😀'.repeat(4096) });
    assert.equal(res.statusCode, 202, res.body);
  });

  it('answers 415-style content types with 400 and a hint', async () => {
    await expectError(await send('POST', '/v1/messages', 'sender_id=1', { 'content-type': 'application/x-www-form-urlencoded' }), 400, 'INVALID_ARGUMENT', /application\/json/, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 413 PAYLOAD_TOO_LARGE for a body over the limit', async () => {
    const big = JSON.stringify({ sender_id: alice, receiver_id: bob, content: 'x'.repeat(300_000) });
    await expectError(await send('POST', '/v1/messages', big), 413, 'PAYLOAD_TOO_LARGE', undefined, 'PAYLOAD_TOO_LARGE');
  });

  it('answers 404 NOT_FOUND for unknown users and routes', async () => {
    await expectError(await send('POST', '/v1/messages', { sender_id: alice, receiver_id: String(base + 99n) }), 400, 'INVALID_ARGUMENT');
    await expectError(await send('POST', '/v1/messages', { sender_id: alice, receiver_id: String(base + 99n), content: 'x' }), 404, 'NOT_FOUND', /receiver_id/, 'UNKNOWN_USER');
    await expectError(await send('POST', '/v1/messages', { sender_id: String(base + 98n), receiver_id: bob, content: 'x' }), 404, 'NOT_FOUND', /sender_id/, 'UNKNOWN_USER');
    await expectError(await send('POST', '/v1/group-messages', { sender_id: alice, group_id: String(base + 96n), content: 'x' }), 404, 'NOT_FOUND', /group_id/, 'UNKNOWN_GROUP');
    await expectError(await send('GET', `/v1/groups/${base + 96n}/members`), 404, 'NOT_FOUND', /group/, 'UNKNOWN_GROUP');
    await expectError(await send('DELETE', `/v1/messages/${base + 95n}?user_id=${alice}`), 404, 'NOT_FOUND', /not in history/, 'UNKNOWN_MESSAGE');
    await expectError(await send('GET', `/v1/users/${base + 97n}/offline-messages`), 404, 'NOT_FOUND', undefined, 'UNKNOWN_USER');
    await expectError(await send('GET', '/v1/nothing-here'), 404, 'NOT_FOUND', undefined, 'UNKNOWN_ROUTE');
  });

  it('checks query parameters and other routes', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'limit=-1', 'last_message_id=xyz', 'last_message_id=0', 'cursor=1']) {
      await expectError(await send('GET', `/v1/users/${alice}/offline-messages?${q}`), 400, 'INVALID_ARGUMENT');
    }
    await expectError(await send('GET', '/v1/users/abc/offline-messages'), 400, 'INVALID_ARGUMENT', /user_id/);
    await expectError(await send('POST', '/v1/acks', { user_id: alice, message_ids: ['1'], status: 'seen' }), 400, 'INVALID_ARGUMENT', /status/);
    await expectError(await send('POST', '/v1/acks', { user_id: alice, message_ids: [], status: 'read' }), 400, 'INVALID_ARGUMENT', /message_ids/);
    await expectError(await send('PUT', `/v1/presence/${alice}`, { gateway_id: 'gw', ttl_s: 0 }), 400, 'INVALID_ARGUMENT', /ttl_s/);
    await expectError(await send('PUT', `/v1/presence/${alice}`, { ttl_s: 10 }), 400, 'INVALID_ARGUMENT', /gateway_id/);
    await expectError(await send('PUT', `/v1/users/${alice}`, { name: '' }), 400, 'INVALID_ARGUMENT', /name/);
    await expectError(await send('PUT', `/v1/users/${alice}`, { name: 'x'.repeat(129) }), 400, 'INVALID_ARGUMENT', /name/);
  });

  it('gives each bad batch item its own error and accepts the good ones', async () => {
    const res = await send('POST', '/v1/messages/batch', {
      messages: [
        { sender_id: alice, receiver_id: bob, content: 'good' },
        { sender_id: alice, receiver_id: bob, content: '' },
        { sender_id: alice, receiver_id: String(base + 99n), content: 'who?' },
        'not an object',
      ],
    });
    assert.equal(res.statusCode, 200);
    const results = res.json().results;
    assert.equal(results.length, 4);
    assert.match(results[0].message_id, /^\d+$/);
    assert.equal(results[1].error.code, 'INVALID_ARGUMENT');
    assert.match(results[1].error.message, /^messages\[1\]: content/);
    assert.equal(results[2].error.code, 'NOT_FOUND');
    assert.equal(results[2].error.reason, 'UNKNOWN_USER');
    assert.equal(results[1].error.reason, 'INVALID_FIELD');
    assert.equal(results[3].error.code, 'INVALID_ARGUMENT');
    await expectError(await send('POST', '/v1/messages/batch', { messages: [] }), 400, 'INVALID_ARGUMENT', /1 to 1000/);
    const tooMany = Array.from({ length: 1001 }, () => ({ sender_id: alice, receiver_id: bob, content: 'x' }));
    await expectError(await send('POST', '/v1/messages/batch', { messages: tooMany }), 400, 'INVALID_ARGUMENT', /1 to 1000/);
  });

  it('queued exactly the two accepted sends above, and nothing for any refused one', async () => {
    const q = new Queue('im.persist', { connection: { url: testServers().redisUrl } as never, prefix });
    const jobs = await q.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
    await q.close();
    const queued = jobs.flatMap((j) => j.data.messages);
    assert.equal(queued.length, 2);
    assert.deepEqual(queued.map((m: any) => m.content.slice(0, 4)).sort(), ['good', '😀😀'].sort());
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history');
    assert.equal(Number(rows[0]!.n), 0, 'no worker runs here, so no history row exists either');
  });
});

describe('ingest API: rate limit and outages', () => {
  let db: TestDatabase;
  const base = randomUserBase();
  const alice = String(base + 1n);
  const bob = String(base + 2n);
  const inject = (ingest: Ingest, url: string, payload: unknown, method: 'POST' | 'PUT' = 'POST') =>
    ingest.app.inject({ method, url, headers: { authorization: `Bearer ${TEST_TOKEN}` }, payload: payload as object });

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  it('answers 429 with Retry-After to a sender over its limit, and others go on', async () => {
    const ingest = await ingestWith(db, `{${uniqueName('imt')}}`, { IM_RATE_LIMIT_PER_SENDER_PER_S: '3' });
    try {
      await inject(ingest, `/v1/users/${alice}`, { name: 'a' }, 'PUT');
      await inject(ingest, `/v1/users/${bob}`, { name: 'b' }, 'PUT');
      // The limit counts per second: on a slow machine a few sends may straddle a second, so send
      // until the fourth of one second is refused (a bounded number of tries).
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<typeof inject>> | undefined;
      for (let i = 0; i < 60 && !limited; i++) {
        const r = await inject(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: `r${i}` });
        statuses.push(r.statusCode);
        if (r.statusCode === 429) limited = r;
      }
      assert.ok(limited, `statuses ${statuses}`);
      assert.deepEqual([...new Set(statuses)].sort(), [202, 429], `only 202 and 429: ${statuses}`);
      assert.equal(limited!.headers['retry-after'], '1');
      assert.deepEqual(limited!.json().error, { code: 'RESOURCE_EXHAUSTED', reason: 'RATE_LIMITED', message: limited!.json().error.message, retry_after_s: 1 });
      // In a batch, the refused items say the same in their own error, beside the accepted ones.
      const batch = await inject(ingest, '/v1/messages/batch', { messages: Array.from({ length: 6 }, (_, i) => ({ sender_id: alice, receiver_id: bob, content: `b${i}` })) });
      assert.equal(batch.statusCode, 200, batch.body);
      const refusedItems = batch.json().results.filter((r: any) => r.error);
      assert.ok(refusedItems.length >= 1, batch.body);
      for (const r of refusedItems) assert.deepEqual([r.error.code, r.error.reason, r.error.retry_after_s], ['RESOURCE_EXHAUSTED', 'RATE_LIMITED', 1]);
      const other = await inject(ingest, '/v1/messages', { sender_id: bob, receiver_id: alice, content: 'me too' });
      assert.equal(other.statusCode, 202);
    } finally {
      for (const [, run] of ingest.shutdownSteps) await run();
    }
  });

  it('answers 503 while the persist queue is over its bound, instead of queueing more', async () => {
    const ingest = await ingestWith(db, `{${uniqueName('imt')}}`, { IM_QUEUE_MAX_PERSIST_BACKLOG: '3' });
    try {
      await inject(ingest, `/v1/users/${alice}`, { name: 'a' }, 'PUT');
      await inject(ingest, `/v1/users/${bob}`, { name: 'b' }, 'PUT');
      // No worker runs: every accepted send is a waiting persist job.
      const refused = await waitFor('a 503 once the backlog check sees the queue', async () => {
        const r = await inject(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'pile up' });
        if (r.statusCode === 202) return undefined;
        return r;
      });
      assert.equal(refused.statusCode, 503);
      assert.equal(refused.json().error.code, 'UNAVAILABLE');
      assert.equal(refused.json().error.reason, 'OVERLOADED');
      assert.equal(refused.headers['retry-after'], '1');
      assert.match(refused.json().error.message, /max_persist_backlog/);
      // The batch route refuses the whole batch the same way.
      const batch = await inject(ingest, '/v1/messages/batch', { messages: [{ sender_id: alice, receiver_id: bob, content: 'in a batch' }] });
      assert.equal(batch.statusCode, 503, batch.body);
      assert.equal(batch.headers['retry-after'], '1');
      assert.equal(batch.json().error.reason, 'OVERLOADED');
    } finally {
      for (const [, run] of ingest.shutdownSteps) await run();
    }
  });

  it('started with another shard count than the deployment runs, follows the deployment; a deployment of an older release is refused until it was resharded', async () => {
    const prefix = `{${uniqueName('imt')}}`;
    const one = await ingestWith(db, prefix, { IM_QUEUE_SHARDS: '1' });
    await inject(one, `/v1/users/${alice}`, { name: 'a' }, 'PUT');
    await inject(one, `/v1/users/${bob}`, { name: 'b' }, 'PUT');
    assert.equal((await inject(one, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'queued' })).statusCode, 202);
    const four = await ingestWith(db, prefix, { IM_QUEUE_SHARDS: '4' });
    try {
      assert.equal(four.topology.shards, 1, "the deployment's count, not queue.shards");
      assert.equal((await inject(four, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'queued too' })).statusCode, 202);
    } finally {
      for (const [, run] of [...one.shutdownSteps, ...four.shutdownSteps]) await run().catch(() => {});
    }
    const redis = new Redis(testServers().redisUrl);
    const queue = new Queue('im.persist', { connection: redis, prefix });
    assert.equal(await queue.getWaitingCount(), 2, "both sends wait in shard 0's queue, none in a shard no worker consumes");
    await queue.close();
    // An older release kept its shard count under {prefix}:shards, and no record.
    const older = `{${uniqueName('imt')}}`;
    await redis.set(`${older}:shards`, '2');
    redis.disconnect();
    await assert.rejects(ingestWith(db, older, {}), /was run by an older release .* run `im-message reshard 2` once/);
  });

  it('answers 503 UNAVAILABLE while Redis is unreachable, stays ready, and /health/dependencies says redis', async () => {
    const redis = await new PrivateRedis().start();
    try {
      const ingest = await ingestWith(db, `{${uniqueName('imt')}}`, { REDIS_URL: redis.url });
      try {
        await inject(ingest, `/v1/users/${alice}`, { name: 'a' }, 'PUT');
        await inject(ingest, `/v1/users/${bob}`, { name: 'b' }, 'PUT');
        assert.equal((await inject(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'before' })).statusCode, 202);
        await redis.kill();
        const r = await inject(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'during', client_msg_id: 'out-1' });
        assert.equal(r.statusCode, 503, r.body);
        assert.equal(r.json().error.code, 'UNAVAILABLE');
        assert.equal(r.json().error.reason, 'DEPENDENCY_UNAVAILABLE');
        assert.equal(r.headers['retry-after'], '1');
        // A batch whose items Redis refused: each item says so, with when to retry.
        const batch = await inject(ingest, '/v1/messages/batch', { messages: [{ sender_id: alice, receiver_id: bob, content: 'during', client_msg_id: 'out-2' }] });
        assert.equal(batch.statusCode, 200, batch.body);
        assert.deepEqual(
          batch.json().results.map((x: any) => [x.error?.code, x.error?.retry_after_s]),
          [['UNAVAILABLE', 1]],
        );
        // Every ingest shares the outage: taking them out of their Service would turn these 503s into refused connections.
        const ready = await ingest.app.inject({ method: 'GET', url: '/ready' });
        assert.equal(ready.statusCode, 200, ready.body);
        const deps = await ingest.app.inject({ method: 'GET', url: '/health/dependencies' });
        assert.equal(deps.statusCode, 503);
        assert.equal(deps.headers['retry-after'], '1', 'every 503 says when to ask again');
        assert.deepEqual(deps.json(), { status: 'unavailable', failed: ['redis'], dependencies: { redis: 'down', mysql: 'up' } });
      } finally {
        for (const [, run] of ingest.shutdownSteps) await run().catch(() => {});
      }
    } finally {
      await redis.stop();
    }
  });

  it('answers 503 UNAVAILABLE, not 500, while Redis is out of memory, and queues nothing', async () => {
    const redis = await new PrivateRedis().start();
    const admin = redis.client();
    const prefix = `{${uniqueName('imt')}}`;
    try {
      const ingest = await ingestWith(db, prefix, { REDIS_URL: redis.url });
      try {
        await inject(ingest, `/v1/users/${alice}`, { name: 'a' }, 'PUT');
        await inject(ingest, `/v1/users/${bob}`, { name: 'b' }, 'PUT');
        assert.equal((await inject(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'before' })).statusCode, 202);
        // noeviction with a limit below what is used: every write is refused with -OOM.
        await admin.config('SET', 'maxmemory', '1');
        const r = await inject(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'during', client_msg_id: 'oom-1' });
        assert.equal(r.statusCode, 503, r.body);
        assert.equal(r.json().error.code, 'UNAVAILABLE');
        await admin.config('SET', 'maxmemory', '0');
        const queue = new Queue('im.persist', { connection: admin, prefix });
        assert.equal(await queue.count(), 1, 'only the send before the limit was queued');
        // The refused send left nothing behind: a retry with the same client_msg_id is a new, accepted send.
        const retried = await inject(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'during', client_msg_id: 'oom-1' });
        assert.equal(retried.statusCode, 202, retried.body);
        assert.equal(await queue.count(), 2);
      } finally {
        for (const [, run] of ingest.shutdownSteps) await run().catch(() => {});
      }
    } finally {
      admin.disconnect();
      await redis.stop();
    }
  });
});
