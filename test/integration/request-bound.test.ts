import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '@im/config';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import { createIngest } from '../../apps/ingest-api/src/ingest';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testServers, uniqueName } from '../support/env';
import { FaultyProxy, type ProxyFault } from '../support/tcp-proxy';
import { waitFor } from '../support/wait';

type Ingest = Awaited<ReturnType<typeof createIngest>>;

const BOUND_MS = 1000;
/** What the HTTP layer adds to the bound at most (in process: no network). */
const SLACK_MS = 250;
const STALL_MS = 3000;

/**
 * Every send is answered within message_service.request_timeout_ms, and a 503 means nothing was
 * queued, when Redis stalls in the middle of a send: the add reaches Redis late, or runs and its
 * reply comes late. Ingest talks to the real Redis through a proxy that stalls on purpose; no
 * worker runs, so the persist queue holds exactly what was accepted.
 */
describe('every send is answered within request_timeout_ms, and a 503 queued nothing', () => {
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
    const config = loadConfig({
      env: {
        REDIS_URL: proxy.url,
        MYSQL_URL: db.url,
        IM_API_TOKENS: TEST_TOKEN,
        IM_QUEUE_PREFIX: prefix,
        IM_RATE_LIMIT_PER_SENDER_PER_S: '0',
        IM_MESSAGE_SERVICE_REQUEST_TIMEOUT_MS: String(BOUND_MS),
      },
    });
    ingest = await createIngest(config, createLogger('ingest-api', 'silent'), createMetrics('ingest-api'));
    for (const u of [alice, bob]) assert.equal((await post(`/v1/users/${u}`, { name: 'n' }, 'PUT')).statusCode, 204);
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

  function post(url: string, body: object, method: 'POST' | 'PUT' = 'POST') {
    return ingest.app.inject({ method, url, headers, payload: JSON.stringify(body) });
  }

  /** The queued messages carrying a client_msg_id. */
  async function queued(clientMsgId: string): Promise<string[]> {
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
    return jobs.flatMap((j) => (j.data.messages as { message_id: string; client_msg_id: string | null }[]).filter((m) => m.client_msg_id === clientMsgId).map((m) => m.message_id));
  }

  for (const fault of ['request-stalled', 'reply-stalled'] as const satisfies readonly ProxyFault[]) {
    it(`${fault}: the send is answered 503 within the bound; once Redis answers, nothing of it is queued, and its retry is queued once`, async () => {
      const content = `stalled ${fault} ${uniqueName('x')}`;
      const clientMsgId = `bound-${fault}`;
      proxy.arm(content, fault, STALL_MS);
      const started = Date.now();
      const first = await post('/v1/messages', { sender_id: alice, receiver_id: bob, content, client_msg_id: clientMsgId });
      const took = Date.now() - started;
      assert.equal(proxy.fired, 1, 'the fault fired');
      proxy.fired = 0;
      assert.equal(first.statusCode, 503, first.body);
      assert.equal(first.headers['retry-after'], '1');
      assert.ok(took <= BOUND_MS + SLACK_MS, `answered after ${took} ms, bound ${BOUND_MS} ms`);

      // The stall ends; whatever reached Redis late is taken back.
      await sleep(STALL_MS);
      await waitFor('the stalled send taken back', async () => (await queued(clientMsgId)).length === 0, 10_000);
      const retry: { message_id: string } = await waitFor(
        'the retry accepted',
        async () => {
          const r = await post('/v1/messages', { sender_id: alice, receiver_id: bob, content, client_msg_id: clientMsgId });
          return r.statusCode === 202 ? (r.json() as { message_id: string }) : undefined;
        },
        15_000,
      );
      assert.deepEqual(await queued(clientMsgId), [retry.message_id], 'queued once, the retry');
    });
  }
});
