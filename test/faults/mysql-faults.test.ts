import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { RowDataPacket } from 'mysql2/promise';
import { topology, type Redis } from '@im/redis';
import { createTestDatabase, waitAllInHistory, type TestDatabase } from '../support/db';
import { randomUserBase, testRedis } from '../support/env';
import { Fleet } from '../support/fleet';
import { waitFor } from '../support/wait';

/** message_service.request_timeout_ms, the default. */
const BOUND_MS = 3000;
const SLACK_MS = 500;
const KILLING_MS = 30_000;

/**
 * MySQL misbehaving under steady sends: every connection of the fleet killed every second for 30 s,
 * and a worker whose MySQL host does not resolve. Afterwards: every send answered 202 in history
 * once and routed, no (conversation, seq) or client_msg_id twice, no failed job, no answer slower
 * than the bound.
 */
describe('MySQL connections killed every second, and a host that does not resolve', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let redis: Redis;
  const base = randomUserBase();
  const users = Array.from({ length: 10 }, (_, i) => String(base + BigInt(i + 1)));

  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url).startAll(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
    for (const u of users) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: u })).status, 204);
    redis = testRedis();
  });

  after(async () => {
    redis?.disconnect();
    await fleet?.stop();
    await db?.drop();
  });

  /** Sends until stopped, each with its client_msg_id, retried on 503; client_msg_id -> [message_id, receiver]. */
  function steadySends(tag: string, api: () => Fleet['api']) {
    const accepted = new Map<string, [string, string]>();
    let slowest = 0;
    let refused = 0;
    let stop = false;
    let n = 0;
    const loop = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!stop) {
          const i = n++;
          const body = { sender_id: users[i % users.length], receiver_id: users[(i * 3 + 1) % users.length], content: `${tag} ${i}`, client_msg_id: `${tag}-${i}` };
          for (;;) {
            const started = Date.now();
            const r = await api().post('/v1/messages', body);
            slowest = Math.max(slowest, Date.now() - started);
            if (r.status === 202) {
              accepted.set(body.client_msg_id, [r.body.message_id, body.receiver_id!]);
              break;
            }
            assert.equal(r.status, 503, JSON.stringify(r.body));
            refused++;
            await sleep(50);
          }
          await sleep(10);
        }
      }),
    );
    return {
      accepted,
      stats: () => ({ slowest, refused }),
      async finish() {
        stop = true;
        await loop;
      },
    };
  }

  async function holdsEverything(tag: string, accepted: Map<string, [string, string]>): Promise<void> {
    const ids = [...accepted.values()].map(([id]) => id);
    await waitAllInHistory(db, ids, 60_000);
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE client_msg_id LIKE ?', [`${tag}-%`]);
    assert.equal(Number(rows[0]!.n), accepted.size, 'history holds exactly the messages answered 202');
    const [dupSeqs] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM (SELECT conversation, seq FROM message_history GROUP BY conversation, seq HAVING COUNT(*) > 1) d');
    assert.equal(Number(dupSeqs[0]!.n), 0, 'no (conversation, seq) twice');
    const [dupIds] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM (SELECT sender_id, client_msg_id FROM message_history GROUP BY sender_id, client_msg_id HAVING COUNT(*) > 1) d');
    assert.equal(Number(dupIds[0]!.n), 0, 'no client_msg_id twice');
    const unrouted = await waitFor(
      'every message routed',
      async () => {
        const [r] = await db.pool.query<RowDataPacket[]>('SELECT user_id, message_id FROM offline_message WHERE message_id IN (?)', [ids]);
        const routed = new Set(r.map((x) => `${x.user_id}/${x.message_id}`));
        const left = [...accepted.values()].filter(([id, to]) => !routed.has(`${to}/${id}`));
        return left.length === 0 ? left : undefined;
      },
      60_000,
    );
    assert.deepEqual(unrouted, []);
    const shard = topology({ prefix: fleet.prefix, shards: 1 }).shard(0);
    for (const stage of ['im.persist', 'im.fanout', 'im.deliver']) {
      const q = new Queue(stage, { connection: redis, prefix: shard.queuePrefix });
      const failed = await q.getFailedCount();
      await q.close();
      assert.equal(failed, 0, `${stage} has failed jobs`);
    }
  }

  it('every connection of the fleet to its database killed every second for 30 s', async (t) => {
    const load = steadySends('killed', () => fleet.api);
    await waitFor('load under way', () => load.accepted.size > 50, 30_000);
    let killed = 0;
    const until = Date.now() + KILLING_MS;
    while (Date.now() < until) {
      const [ids] = await db.pool.query<RowDataPacket[]>('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [db.name]);
      for (const { id } of ids) {
        await db.pool.query(`KILL CONNECTION ${Number(id)}`).catch(() => {});
        killed++;
      }
      await sleep(1000);
    }
    await waitFor('sends go on after the kills', () => load.accepted.size > 0, 10_000);
    await load.finish();
    await holdsEverything('killed', load.accepted);
    const { slowest, refused } = load.stats();
    t.diagnostic(`${load.accepted.size} accepted, ${refused} answers 503 retried, ${killed} connections killed, slowest answer ${slowest} ms`);
    assert.ok(killed > 30, `the fleet's connections were killed (${killed})`);
    assert.ok(slowest <= BOUND_MS + SLACK_MS, `the slowest answer took ${slowest} ms (bound ${BOUND_MS} ms)`);
  });

  it("a worker-persist whose MySQL host does not resolve retries its jobs, fails none, and they land once one that resolves runs", async () => {
    await fleet.kill('worker-persist', 'SIGTERM');
    // Retries every second at most, so the test sees many of them soon.
    const lost = new Fleet(db.url.replace('127.0.0.1', 'im-mysql.invalid'), { IM_QUEUE_MAX_BACKOFF_MS: '1000' }, [], { prefix: fleet.prefix });
    await lost.start('worker-persist', { until: 'health' });
    const load = steadySends('unresolved', () => fleet.api);
    await waitFor('load under way', () => load.accepted.size > 50, 30_000);
    await load.finish();
    const persist = new Queue('im.persist', { connection: redis, prefix: fleet.prefix });
    try {
      // Retried past any count a job once had (10), none failed.
      await waitFor('persist jobs retried many times', async () => (await persist.getJobs(['delayed', 'waiting', 'active'], 0, 20)).some((j) => j.attemptsMade > 10), 60_000);
      assert.equal(await persist.getFailedCount(), 0, 'no job failed');
      assert.match(lost.logs('worker-persist'), /ENOTFOUND|EAI_AGAIN/, 'the worker says what it could not reach');
    } finally {
      await persist.close();
    }
    await lost.stop();
    await fleet.start('worker-persist');
    await holdsEverything('unresolved', load.accepted);
  });
});
