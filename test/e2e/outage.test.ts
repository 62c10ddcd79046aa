import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { createTestDatabase, waitAllInHistory, type TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { PrivateMysql } from '../support/private-mysql';
import { PrivateRedis } from '../support/private-redis';
import { waitFor } from '../support/wait';

const OUTAGE_MS = 40_000;
const BACKLOG_BOUND = 600;
/**
 * The retry timings of the run: first retry after 100 ms, doubling to 1 s. An outage of 40 s is
 * then about 40 tries of every waiting job, as many as the production defaults (200 ms to 5 s)
 * make in three minutes.
 */
const RETRY_ENV = { IM_QUEUE_BACKOFF_MS: '100', IM_QUEUE_MAX_BACKOFF_MS: '1000' };

/**
 * A long MySQL outage under steady sends heals by itself: jobs that fail because MySQL is away
 * retry with a capped backoff for as long as it takes, ingest refuses sends once the persist work
 * not yet done reaches queue.max_persist_backlog (so Redis memory stops growing), and within a
 * minute of MySQL's return every message answered 202 is in history once and routed. No
 * operator step: nothing ends in the failed set. The fleet runs on a MariaDB and a Redis of this
 * file's own: the outage stops no other file's database, and no other file's keys move the
 * Redis memory this test watches.
 */
describe('a MySQL outage many times longer than the retry schedule, under steady load', () => {
  let mysql: PrivateMysql;
  let privateRedis: PrivateRedis;
  let db: TestDatabase;
  let fleet: Fleet;
  let gateway: GatewaySimulator;
  let redis: Redis;
  const base = randomUserBase();
  const users = Array.from({ length: 10 }, (_, i) => String(base + BigInt(i + 1)));
  const online = users.slice(0, 5);
  const group = String(base + 100n);

  before(async () => {
    [mysql, privateRedis] = await Promise.all([new PrivateMysql().start(), new PrivateRedis().start()]);
    db = await createTestDatabase(mysql.url);
    fleet = await new Fleet(db.url, { REDIS_URL: privateRedis.url, IM_QUEUE_MAX_PERSIST_BACKLOG: String(BACKLOG_BOUND), ...RETRY_ENV }).startAll([
      'ingest-api',
      'worker-persist',
      'worker-fanout',
      'worker-delivery',
    ]);
    for (const u of users) await fleet.api.put(`/v1/users/${u}`, { name: u });
    await fleet.api.put(`/v1/groups/${group}`, { name: 'outage' });
    await fleet.api.post(`/v1/groups/${group}/members`, { add: users });
    gateway = new GatewaySimulator(fleet.api, 'gw-test', { redis_url: privateRedis.url, cluster_nodes: [] });
    await gateway.connect(online, 3600);
    redis = new Redis(privateRedis.url);
  });

  after(async () => {
    if (mysql && !mysql.running) await mysql.start();
    redis?.disconnect();
    await gateway?.close();
    await fleet?.stop();
    await db?.drop();
    await Promise.all([mysql?.stop(), privateRedis?.stop()]);
  });

  it('persists and routes every accepted message within a minute of the return, with the backlog and Redis memory bounded', async (t) => {
    const queues = ['im.persist', 'im.deliver', 'im.fanout'].map((name) => new Queue(name, { connection: redis, prefix: fleet.prefix }));
    const persist = queues[0]!;
    const accepted = new Map<string, string[]>();
    const refused: (number | string)[] = [];
    let stop = false;
    let n = 0;
    // Steady single sends (each its own persist job at this rate) and a group send now and then.
    const load = (async () => {
      while (!stop) {
        const from = users[n % users.length]!;
        const body = n % 10 === 0 ? { sender_id: from, group_id: group, content: `outage group ${n}` } : { sender_id: from, receiver_id: users[(n * 7 + 1) % users.length], content: `outage ${n} ✓` };
        n++;
        try {
          const r = await fleet.api.post(body.group_id ? '/v1/group-messages' : '/v1/messages', body);
          if (r.status === 202) accepted.set(r.body.message_id, body.group_id ? users.filter((u) => u !== from) : [body.receiver_id!]);
          else refused.push(r.status);
        } catch (err) {
          refused.push((err as Error).message);
        }
        await sleep(20);
      }
    })();

    await waitFor('load under way', () => accepted.size > 50);
    const memoryBefore = await usedMemory(redis);
    await mysql.shutdown();
    const outageStart = Date.now();
    let acceptedAtBound = -1;
    let memoryAtBound = 0;
    let peakBacklog = 0;
    let peakMemory = 0;
    let maxTries = 0;
    while (Date.now() - outageStart < OUTAGE_MS) {
      await sleep(1000);
      const c = await persist.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      peakBacklog = Math.max(peakBacklog, Object.values(c).reduce((a, b) => a + b, 0));
      for (const job of await persist.getJobs(['delayed', 'waiting', 'active'], 0, 50)) maxTries = Math.max(maxTries, job?.attemptsMade ?? 0);
      const mem = await usedMemory(redis);
      peakMemory = Math.max(peakMemory, mem);
      if (acceptedAtBound < 0 && refused.length > 0) {
        acceptedAtBound = accepted.size;
        memoryAtBound = mem;
      }
    }
    const acceptedDuringOutage = accepted.size;
    await mysql.start();
    const back = Date.now();
    await sleep(5000);
    stop = true;
    await load;

    const ids = [...accepted.keys()];
    await waitAllInHistory(db, ids, 60_000 - (Date.now() - back));
    const unrouted = await waitFor(
      'every delivery routed',
      async () => {
        const [rows] = await db.pool.query<RowDataPacket[]>('SELECT user_id, message_id FROM offline_message WHERE message_id IN (?)', [ids]);
        const offline = new Set(rows.map((r) => `${r.user_id}/${r.message_id}`));
        const heard = new Set(gateway.received.map((r) => `${r.channel.slice(5)}/${r.payload.message_id}`));
        const missing = [...accepted].flatMap(([id, to]) => to.filter((u) => !offline.has(`${u}/${id}`) && !heard.has(`${u}/${id}`)).map((u) => `${u}/${id}`));
        return missing.length === 0 ? missing : undefined;
      },
      Math.max(5_000, 60_000 - (Date.now() - back)),
    );
    const recovered = Date.now() - back;
    assert.deepEqual(unrouted, []);
    const [dups] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM (SELECT conversation, seq FROM message_history GROUP BY conversation, seq HAVING COUNT(*) > 1) d');
    assert.equal(Number(dups[0]!.n), 0, 'no seq twice in a conversation');
    for (const q of queues) assert.equal(await q.getFailedCount(), 0, `${q.name} has failed jobs`);
    for (const r of refused) assert.ok(r === 503, `a send during the outage got ${r}, not 503`);
    assert.ok(maxTries > 20, `a persist job was tried ${maxTries} times during the outage, and none failed`);
    assert.ok(acceptedAtBound > 0, 'ingest refused sends once the backlog reached its bound');
    assert.ok(peakBacklog <= BACKLOG_BOUND + 100, `the persist backlog peaked at ${peakBacklog} jobs, bound ${BACKLOG_BOUND}`);
    t.diagnostic(
      `outage ${OUTAGE_MS / 1000} s: ${acceptedDuringOutage} accepted in all by its end (${acceptedAtBound} when the bound was reached), ${refused.length} refused with 503; ` +
        `persist backlog peak ${peakBacklog} jobs, the most tried one ${maxTries} times; Redis used_memory ${mb(memoryBefore)} before, ${mb(memoryAtBound)} at the bound, peak ${mb(peakMemory)}; ` +
        `all ${ids.length} persisted and routed ${(recovered / 1000).toFixed(1)} s after MySQL's return`,
    );
    // Past the bound nothing new is queued: memory stays within a few MB of what it was then.
    assert.ok(peakMemory - memoryAtBound < 8 * 1024 * 1024, `Redis memory grew ${mb(peakMemory - memoryAtBound)} after the bound was reached`);
    await Promise.all(queues.map((q) => q.close()));
  });
});

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
