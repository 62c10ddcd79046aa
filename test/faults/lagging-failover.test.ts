import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { RowDataPacket } from 'mysql2/promise';
import { calculateSlot, createRedis, topology, type Redis } from '@im/redis';
import { createTestDatabase, waitAllInHistory, type TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import { Fleet } from '../support/fleet';
import { LaggingCluster } from '../support/lagging-cluster';
import { waitFor } from '../support/wait';

const SHARDS = 3;
/** message_service.request_timeout_ms, the default. */
const BOUND_MS = 3000;
/** What an answer may take beyond the bound: the HTTP round trip on a loaded two-core machine. */
const SLACK_MS = 500;

/**
 * A Redis Cluster primary dies while its replica really lags (the replication stream held in a
 * proxy and lost with the primary), with queue.min_replicas = 1: the primary holds one shard's
 * queues and, in the same slot, the admission state (seq counters, dedupe records) that numbered
 * its jobs. Steady sends over conversations of every shard, each with its client_msg_id, retried
 * on 503 as a gateway does. Afterwards: every send answered 202 in history once and routed, no
 * (conversation, seq) twice, no client_msg_id twice, no failed job, no answer slower than the bound.
 */
describe('a cluster primary killed while its replica lags, min_replicas = 1', () => {
  let db: TestDatabase;
  let cluster: LaggingCluster;
  let fleet: Fleet;
  let redis: Redis;
  const base = randomUserBase();
  const users = Array.from({ length: 12 }, (_, i) => String(base + BigInt(i + 1)));

  before(async () => {
    db = await createTestDatabase();
    cluster = await new LaggingCluster().start();
    fleet = await new Fleet(db.url, {
      REDIS_CLUSTER_NODES: cluster.addresses.join(','),
      IM_QUEUE_MIN_REPLICAS: '1',
      IM_QUEUE_SHARDS: String(SHARDS),
    }).startAll(['ingest-api', 'worker-persist', 'worker-delivery']);
    for (const u of users) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: u })).status, 204);
    redis = createRedis({ redis_url: 'redis://127.0.0.1:1', cluster_nodes: cluster.addresses }, 'worker', 'im-test-lagging');
  });

  after(async () => {
    redis?.disconnect();
    await fleet?.stop();
    await cluster?.stop();
    await db?.drop();
  });

  it('keeps every 202, repeats no seq or client_msg_id, fails no job, and answers every send within the bound', async (t) => {
    const accepted = new Map<string, string>(); // client_msg_id -> message_id
    const receiverOf = new Map<string, string>(); // message_id -> receiver
    let refused = 0;
    let lastRefusal = '';
    let slowest = 0;
    let stop = false;
    let n = 0;
    const sender = async () => {
      while (!stop) {
        const i = n++;
        const body = { sender_id: users[i % users.length], receiver_id: users[(i * 5 + 1) % users.length], content: `lag ${i}`, client_msg_id: `lag-${i}` };
        for (;;) {
          const started = Date.now();
          const r = await fleet.api.post('/v1/messages', body).catch((err: Error) => ({ status: 0, body: { err: err.message } }));
          slowest = Math.max(slowest, Date.now() - started);
          if (r.status === 202) {
            accepted.set(body.client_msg_id, r.body.message_id);
            receiverOf.set(r.body.message_id, body.receiver_id!);
            break;
          }
          assert.equal(r.status, 503, JSON.stringify(r.body));
          refused++;
          lastRefusal = JSON.stringify(r.body);
          await sleep(50);
        }
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, sender));
    await waitFor('load under way', () => accepted.size > 200, 60_000).catch((err: Error) => {
      throw new Error(`${err.message} (${accepted.size} accepted, ${refused} refused, the last: ${lastRefusal}); ingest-api's log ends:\n${fleet.logs('ingest-api').split('\n').slice(-8).join('\n')}`);
    });

    // The primary of shard 1: its queues and its admission keys share one slot.
    const shard = topology({ prefix: fleet.prefix, shards: SHARDS }).shard(1);
    const slot = calculateSlot(shard.queueKey('im.persist', 'wait'));
    assert.equal(calculateSlot(shard.keys.seqEpoch), slot, "the shard's admission state is in its queues' slot");
    const primary = await cluster.primaryOf(slot);
    cluster.holdReplication(primary);
    const held = accepted.size;
    await sleep(1500);
    const promoted = await cluster.killPrimary(primary);
    assert.notEqual(promoted, primary);
    await cluster.restart(primary);
    await waitFor('sends accepted again on every shard', () => accepted.size > held + 300, 90_000);
    stop = true;
    await load;

    const ids = [...accepted.values()];
    await waitAllInHistory(db, ids, 60_000);
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE client_msg_id LIKE ?', ['lag-%']);
    assert.equal(Number(rows[0]!.n), accepted.size, 'history holds exactly the messages answered 202');
    const [dupSeqs] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM (SELECT conversation, seq FROM message_history GROUP BY conversation, seq HAVING COUNT(*) > 1) d');
    assert.equal(Number(dupSeqs[0]!.n), 0, 'no (conversation, seq) twice');
    const [dupIds] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM (SELECT sender_id, client_msg_id FROM message_history GROUP BY sender_id, client_msg_id HAVING COUNT(*) > 1) d');
    assert.equal(Number(dupIds[0]!.n), 0, 'no client_msg_id twice');
    // Nobody is online: routed means an offline row for the receiver.
    const unrouted = await waitFor(
      'every message routed',
      async () => {
        const [r] = await db.pool.query<RowDataPacket[]>('SELECT user_id, message_id FROM offline_message WHERE message_id IN (?)', [ids]);
        const routed = new Set(r.map((x) => `${x.user_id}/${x.message_id}`));
        const left = ids.filter((id) => !routed.has(`${receiverOf.get(id)}/${id}`));
        return left.length === 0 ? left : undefined;
      },
      60_000,
    );
    assert.deepEqual(unrouted, []);
    for (const s of topology({ prefix: fleet.prefix, shards: SHARDS }).all) {
      for (const stage of ['im.persist', 'im.deliver'] as const) {
        const q = new Queue(stage, { connection: redis, prefix: s.queuePrefix });
        const failed = await q.getFailedCount();
        await q.close();
        assert.equal(failed, 0, `${s.label(stage)} has failed jobs`);
      }
    }
    const metrics = await (await fetch(`http://127.0.0.1:${fleet.procs.get('worker-persist')!.port}/metrics`)).text();
    const conflicts = Number(/im_errors_total\{component="im.persist",kind="seq_conflict"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
    t.diagnostic(`${accepted.size} accepted (${held} before the hold), ${refused} answers 503 retried with their client_msg_id, slowest answer ${slowest} ms, ${conflicts} seq conflict(s) caught by MySQL`);
    assert.ok(slowest <= BOUND_MS + SLACK_MS, `the slowest answer took ${slowest} ms (bound ${BOUND_MS} ms)`);
  });
});
