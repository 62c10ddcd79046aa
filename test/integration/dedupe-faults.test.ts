import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '@im/config';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import { createIngest } from '../../apps/ingest-api/src/ingest';
import { PENDING_GRACE_MS } from '../../apps/ingest-api/src/send/send.service';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testServers, uniqueName } from '../support/env';
import { FaultyProxy } from '../support/tcp-proxy';

type Ingest = Awaited<ReturnType<typeof createIngest>>;

/**
 * client_msg_id dedupe without holes: a send whose enqueue reply is lost, or whose dedupe record
 * could not be confirmed, is never accepted a second time. Ingest talks to the real Redis through
 * a proxy that loses a command or its reply on purpose; no worker runs, so the persist queue holds
 * exactly what was accepted.
 */
describe('dedupe holds when Redis loses a reply or a confirmation', () => {
  let db: TestDatabase;
  let proxy: FaultyProxy;
  let ingest: Ingest;
  let redis: Redis;
  let queue: Queue;
  const prefix = `{${uniqueName('imt')}}`;
  const base = randomUserBase();
  const [alice, bob] = [String(base + 1n), String(base + 2n)];
  const headers = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };

  before(async () => {
    db = await createTestDatabase();
    proxy = await new FaultyProxy(Number(new URL(testServers().redisUrl).port)).start();
    const config = loadConfig({ env: { REDIS_URL: proxy.url, MYSQL_URL: db.url, IM_API_TOKENS: TEST_TOKEN, IM_QUEUE_PREFIX: prefix, IM_RATE_LIMIT_PER_SENDER_PER_S: '0' } });
    ingest = await createIngest(config, createLogger('ingest-api', 'silent'), createMetrics('ingest-api'));
    for (const u of [alice, bob]) {
      const r = await ingest.app.inject({ method: 'PUT', url: `/v1/users/${u}`, headers, payload: JSON.stringify({ name: 'n' }) });
      assert.equal(r.statusCode, 204);
    }
    redis = new Redis(testServers().redisUrl);
    queue = new Queue('im.persist', { connection: redis, prefix });
  });

  after(async () => {
    for (const [, run] of ingest?.shutdownSteps ?? []) await run().catch(() => {});
    await queue?.obliterate({ force: true }).catch(() => {});
    await queue?.close();
    redis?.disconnect();
    await proxy?.stop();
    await db?.drop();
  });

  const post = (body: object) => ingest.app.inject({ method: 'POST', url: '/v1/messages', headers, payload: JSON.stringify(body) });

  /** What a gateway does: retry (as the contract allows for 503) until the send is answered 2xx. */
  async function sendUntilAccepted(body: object): Promise<{ answers: number[]; result: { message_id: string; seq: number } }> {
    const answers: number[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await post(body);
      answers.push(r.statusCode);
      if (r.statusCode === 202) return { answers, result: r.json() };
      assert.equal(r.statusCode, 503, r.body);
      await sleep(100);
    }
    throw new Error(`never accepted: ${answers.join(',')}`);
  }

  /** The queued messages carrying a client_msg_id. */
  async function queued(clientMsgId: string): Promise<string[]> {
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
    return jobs.flatMap((j) => (j.data.messages as { message_id: string; client_msg_id: string | null }[]).filter((m) => m.client_msg_id === clientMsgId).map((m) => m.message_id));
  }

  it('a send whose enqueue ran but whose reply was lost is queued once, and its retry answers the same message', async () => {
    const content = `reply lost ${uniqueName('x')}`;
    proxy.arm(content, 'reply-lost');
    const body = { sender_id: alice, receiver_id: bob, content, client_msg_id: 'reply-lost-1' };
    const { answers, result } = await sendUntilAccepted(body);
    assert.equal(proxy.fired, 1, 'the fault fired');
    assert.deepEqual(await queued('reply-lost-1'), [result.message_id], `queued once (answers ${answers.join(',')})`);
    const again = await post(body);
    assert.equal(again.statusCode, 202);
    assert.equal(again.json().message_id, result.message_id);
    assert.equal((await queued('reply-lost-1')).length, 1);
  });

  it('a send whose dedupe confirmation never reached Redis is still a duplicate when retried after the pending record would have expired', async () => {
    proxy.fired = 0;
    // The write of the accepted record ("A|...") is lost on its way, and Redis stays out of reach
    // for 3 s: every try to confirm fails.
    proxy.arm('A|', 'request-lost', 3000);
    const body = { sender_id: alice, receiver_id: bob, content: 'confirmation lost', client_msg_id: 'confirm-lost-1' };
    const first = await post(body);
    assert.equal(first.statusCode, 202, first.body);
    // Past the grace in which a pending record may still belong to a send in flight.
    await sleep(PENDING_GRACE_MS + 1000);
    assert.equal(proxy.fired, 1, 'the fault fired');
    const again = await sendUntilAccepted(body);
    assert.equal(again.result.message_id, first.json().message_id, 'the retry got the first answer');
    assert.deepEqual(await queued('confirm-lost-1'), [first.json().message_id], 'queued once');
  });
});
