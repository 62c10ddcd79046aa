import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { RowDataPacket } from 'mysql2/promise';
import { closeRedis, type Redis } from '@im/redis';
import { createTestDatabase, waitAllInHistory, type TestDatabase } from '../support/db';
import { randomUserBase, testRedis } from '../support/env';
import { Fleet } from '../support/fleet';
import { FaultyProxy } from '../support/tcp-proxy';
import { testServers } from '../support/env';
import { GatewaySimulator } from '../support/gateway';
import { waitFor } from '../support/wait';

const MESSAGES = 2000;
/** message_service.request_timeout_ms, the default. */
const BOUND_MS = 3000;
const IN_FLIGHT = 32;
const CONVERSATIONS = 10;

/**
 * queue.ordered holds with several processes per role: two ingest-api processes take the sends in
 * turn (so batches of one conversation are admitted by both and reach the queue in any order), and
 * two of each of worker-persist and worker-delivery run. 32 sends in flight over 10 conversations
 * to one online user; every arrival of a conversation must carry a higher seq than the one before.
 */
describe('ordered delivery with two processes of each role', () => {
  let db: TestDatabase;
  let one: Fleet;
  let two: Fleet;
  let gateway: GatewaySimulator;
  let far: FaultyProxy;
  let redis: Redis;
  const base = randomUserBase();
  const receiver = String(base + 1n);
  const senders = Array.from({ length: CONVERSATIONS }, (_, i) => String(base + BigInt(i + 2)));

  before(async () => {
    db = await createTestDatabase();
    one = await new Fleet(db.url, { IM_QUEUE_ORDERED: 'true' }).startAll(['ingest-api', 'worker-persist', 'worker-delivery']);
    // The second set of processes reaches Redis over a longer path (5 ms each way), as a pod on
    // another node would: its adds reach the queue well after its admissions, so the jobs of the
    // two ingest processes arrive out of admission order.
    far = await new FaultyProxy(Number(new URL(testServers().redisUrl).port), '127.0.0.1', 5).start();
    two = await new Fleet(db.url, { IM_QUEUE_ORDERED: 'true', REDIS_URL: far.url }, [], { prefix: one.prefix }).startAll(['ingest-api', 'worker-persist', 'worker-delivery']);
    for (const u of [receiver, ...senders]) assert.equal((await one.api.put(`/v1/users/${u}`, { name: u })).status, 204);
    gateway = new GatewaySimulator(one.api, 'gw-order-scale');
    await gateway.connect([receiver], 600);
    redis = testRedis();
  });

  after(async () => {
    await gateway?.close();
    await Promise.all([one?.stop(), two?.stop()]);
    await far?.stop();
    if (redis) await closeRedis(redis);
    await db?.drop();
  });

  it(`delivers ${MESSAGES} messages through two ingest-api, in seq order within each conversation`, async (t) => {
    let next = 0;
    const accepted = new Set<string>();
    let refused = 0;
    let slowest = 0;
    const sender = async () => {
      while (next < MESSAGES) {
        const n = next++;
        const body = { sender_id: senders[n % CONVERSATIONS], receiver_id: receiver, content: `ordered ${n}`, client_msg_id: `os-${n}` };
        // Each conversation's sends alternate between the two processes (n / CONVERSATIONS: the
        // conversation is n % CONVERSATIONS); a gateway retries a 503 with the same client_msg_id,
        // on the other process.
        const turn = Math.floor(n / CONVERSATIONS);
        for (let attempt = 0; ; attempt++) {
          const started = Date.now();
          const r = await ((turn + attempt) % 2 === 0 ? one.api : two.api).post('/v1/messages', body);
          slowest = Math.max(slowest, Date.now() - started);
          if (r.status === 202) {
            accepted.add(r.body.message_id);
            break;
          }
          assert.equal(r.status, 503, JSON.stringify(r.body));
          refused++;
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
    await waitFor(`all ${MESSAGES} published to the receiver`, () => new Set(gateway.for(receiver).map((m) => m.message_id)).size >= MESSAGES, 120_000);
    await waitAllInHistory(db, [...accepted], 30_000);

    const last = new Map<string, number>();
    let inversions = 0;
    let pairs = 0;
    const seen = new Set<string>();
    for (const m of gateway.for(receiver)) {
      if (seen.has(m.message_id)) continue; // a redelivered duplicate: gateways drop it by message_id
      seen.add(m.message_id);
      const prev = last.get(m.sender_id);
      if (prev !== undefined) {
        pairs++;
        if (m.seq <= prev) inversions++;
      }
      last.set(m.sender_id, Math.max(prev ?? 0, m.seq));
    }
    t.diagnostic(`${inversions} of ${pairs} consecutive arrivals within a conversation out of seq order (${refused} sends answered 503 and retried)`);
    assert.equal(seen.size, MESSAGES);
    assert.ok([...seen].every((id) => accepted.has(id)));
    const [dups] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM (SELECT conversation, seq FROM message_history GROUP BY conversation, seq HAVING COUNT(*) > 1) d');
    assert.equal(Number(dups[0]!.n), 0, 'no seq twice');
    const [dupIds] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM (SELECT sender_id, client_msg_id FROM message_history GROUP BY sender_id, client_msg_id HAVING COUNT(*) > 1) d');
    assert.equal(Number(dupIds[0]!.n), 0, 'no client_msg_id twice');
    for (const stage of ['im.persist', 'im.deliver'] as const) {
      const q = new Queue(stage, { connection: redis, prefix: one.prefix });
      const failed = await q.getFailedCount();
      await q.close();
      assert.equal(failed, 0, `${stage} has failed jobs`);
    }
    assert.ok(slowest <= BOUND_MS + 500, `the slowest answer took ${slowest} ms (bound ${BOUND_MS} ms)`);
    assert.equal(inversions, 0);
  });
});
