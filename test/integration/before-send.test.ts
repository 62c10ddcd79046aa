import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { loadConfig } from '@im/config';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import { createIngest } from '../../apps/ingest-api/src/ingest';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testServers, uniqueName } from '../support/env';
import { FakeWebhook } from '../support/fake-providers';

const SECRET = 'hook-secret-0123456789';
// Roomy against a shared machine's stalls (a hook that answers late would be taken as failed).
const TIMEOUT_MS = 2000;
type Ingest = Awaited<ReturnType<typeof createIngest>>;

/** The moderation the fake hook does: refuses "forbidden", masks "darn", accepts the rest. */
function moderate(body: { messages: { content: string }[] }) {
  return {
    results: body.messages.map((m) =>
      m.content.includes('forbidden') ? { action: 'refuse', reason: 'the word "forbidden" is not allowed' } : m.content.includes('darn') ? { action: 'replace', content: m.content.replaceAll('darn', '****') } : { action: 'accept' },
    ),
  };
}

describe('before_send hook on the shared send path (in process, real Redis and MariaDB, a local hook receiver)', () => {
  let db: TestDatabase;
  let hook: FakeWebhook;
  const ingests: Ingest[] = [];
  const prefixes: string[] = [];
  const base = randomUserBase();
  const [alice, bob] = [String(base + 1n), String(base + 2n)];

  async function ingestWith(policy: 'fail_open' | 'fail_closed'): Promise<Ingest> {
    const prefix = `{${uniqueName('imt')}}`;
    prefixes.push(prefix);
    const config = loadConfig({
      env: {
        REDIS_URL: testServers().redisUrl,
        MYSQL_URL: db.url,
        IM_API_TOKENS: TEST_TOKEN,
        IM_QUEUE_PREFIX: prefix,
        IM_RATE_LIMIT_PER_SENDER_PER_S: '0',
        IM_HOOKS_BEFORE_SEND_URL: hook.url,
        IM_MESSAGE_SERVICE_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS * 6),
        IM_HOOKS_BEFORE_SEND_TIMEOUT_MS: String(TIMEOUT_MS),
        IM_HOOKS_BEFORE_SEND_POLICY: policy,
        IM_HOOKS_SECRET: SECRET,
      },
    });
    const ingest = await createIngest(config, createLogger('ingest-api', 'silent'), createMetrics('ingest-api'));
    await ingest.app.ready();
    ingests.push(ingest);
    return ingest;
  }
  const call = async (ingest: Ingest, url: string, payload: unknown) => {
    const res = await ingest.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
    return { status: res.statusCode, body: res.json() };
  };
  /** The contents queued for worker-persist under a prefix. */
  async function queued(prefix: string): Promise<string[]> {
    const q = new Queue('im.persist', { connection: { url: testServers().redisUrl } as never, prefix });
    try {
      const jobs = await q.getJobs(['waiting', 'delayed', 'prioritized']);
      return jobs.flatMap((j) => j.data.messages.map((m: { content: string }) => m.content)).sort();
    } finally {
      await q.close();
    }
  }

  before(async () => {
    hook = await new FakeWebhook(SECRET).start('/before-send');
    hook.reply = moderate;
    db = await createTestDatabase();
    const first = await ingestWith('fail_open');
    for (const u of [alice, bob]) {
      const r = await first.app.inject({ method: 'PUT', url: `/v1/users/${u}`, headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' }, payload: '{"name":"u"}' });
      assert.equal(r.statusCode, 204);
    }
  });

  after(async () => {
    for (const i of ingests) for (const [, run] of i.shutdownSteps) await run();
    for (const prefix of prefixes) {
      const q = new Queue('im.persist', { connection: { url: testServers().redisUrl } as never, prefix });
      await q.obliterate({ force: true });
      await q.close();
    }
    await db?.drop();
    await hook?.close();
  });

  it('a refused word gets the sender 403 naming the reason, a replaced one is queued with the hook’s content; one signed call per request', async () => {
    const ingest = ingests[0]!;
    const calls = hook.received.length;
    const refused = await call(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'this is forbidden' });
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.body, { error: { code: 'PERMISSION_DENIED', reason: 'HOOK_REFUSED', message: 'the before_send hook refused the message: the word "forbidden" is not allowed' } });
    assert.equal((await call(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'oh darn' })).status, 202);
    const batch = await call(ingest, '/v1/messages/batch', {
      messages: [
        { sender_id: alice, receiver_id: bob, content: 'fine' },
        { sender_id: bob, receiver_id: alice, content: 'forbidden again' },
        { sender_id: alice, receiver_id: bob, content: 'darn darn' },
      ],
    });
    assert.equal(batch.status, 200);
    assert.equal(batch.body.results[1].error.code, 'PERMISSION_DENIED');
    assert.ok(batch.body.results[0].message_id && batch.body.results[2].message_id);
    assert.equal(hook.received.length - calls, 3, 'one call per request, the batch’s messages together');
    assert.deepEqual(hook.received.at(-1)!.body.messages.map((m: { content: string }) => m.content), ['fine', 'forbidden again', 'darn darn']);
    assert.deepEqual(hook.refusedSignatures, []);
    assert.deepEqual(await queued(prefixes[0]!), ['**** ****', 'fine', 'oh ****'], 'refused sends are not queued; replaced ones carry the new content');
  });

  it('a hook that times out: fail_open admits the send unchanged, within the send’s bound', async () => {
    const ingest = ingests[0]!;
    hook.failures.push({ delayMs: TIMEOUT_MS * 2 });
    const r = await call(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'forbidden but the hook is slow' });
    assert.equal(r.status, 202);
    assert.ok((await queued(prefixes[0]!)).includes('forbidden but the hook is slow'));
  });

  it('a hook that times out or fails: fail_closed refuses the send with 503 and queues nothing', async () => {
    const ingest = await ingestWith('fail_closed');
    hook.failures.push({ delayMs: TIMEOUT_MS * 2 }, { status: 500 });
    const slow = await call(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'hello' });
    assert.equal(slow.status, 503);
    assert.equal(slow.body.error.code, 'UNAVAILABLE');
    assert.equal(slow.body.error.reason, 'HOOK_UNAVAILABLE');
    assert.match(slow.body.error.message, new RegExp(`no answer within ${TIMEOUT_MS} ms.*fail_closed`));
    const broken = await call(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'hello' });
    assert.equal(broken.status, 503);
    assert.match(broken.body.error.message, /HTTP 500/);
    assert.deepEqual(await queued(prefixes[1]!), []);
    // Answering again, the hook admits.
    assert.equal((await call(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'hello' })).status, 202);
  });

  it('an answer that is not as documented counts as a failure of the hook', async () => {
    const ingest = ingests[1]!;
    hook.reply = () => ({ results: [{ action: 'replace', content: '' }] });
    const r = await call(ingest, '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'x' });
    assert.equal(r.status, 503);
    assert.match(r.body.error.message, /a replacement must be 1 to 4096 characters/);
    hook.reply = moderate;
  });
});
