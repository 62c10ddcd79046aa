import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { calculateSlot } from '@im/redis';
import { createTestDatabase, waitAllInHistory, type TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import { Fleet } from '../support/fleet';
import { PrivateCluster } from '../support/private-redis';
import { waitFor } from '../support/wait';

/**
 * No accepted message is lost when a primary dies: with queue.min_replicas = 1, ingest answers 202
 * only once a replica holds the batch's persist job. Under steady sends, the primary that holds
 * the persist queue is killed (SIGKILL); its replica takes over (cluster-node-timeout 1 s) and the
 * dead node comes back as its replica; every message answered 202 must end in history exactly
 * once and be routed.
 */
describe('a primary killed under load, with min_replicas = 1', () => {
  let db: TestDatabase;
  let cluster: PrivateCluster;
  let fleet: Fleet;
  const base = randomUserBase();
  const users = Array.from({ length: 8 }, (_, i) => String(base + BigInt(i + 1)));

  before(async () => {
    db = await createTestDatabase();
    cluster = await new PrivateCluster().start(1000);
    fleet = await new Fleet(db.url, {
      REDIS_CLUSTER_NODES: cluster.addresses.join(','),
      IM_QUEUE_MIN_REPLICAS: '1',
      IM_QUEUE_REPLICA_TIMEOUT_MS: '500',
      IM_QUEUE_SHARDS: '1',
      IM_QUEUE_PUBSUB: 'sharded',
    }).startAll(['ingest-api', 'worker-persist', 'worker-delivery']);
    for (const u of users) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: u })).status, 204);
  });

  after(async () => {
    await fleet?.stop();
    await cluster?.stop();
    await db?.drop();
  });

  it('keeps every message answered 202: each in history once, each routed', async (t) => {
    const accepted = new Map<string, string>(); // message_id -> receiver
    const refused: (number | string)[] = [];
    let stop = false;
    let n = 0;
    const sender = async () => {
      while (!stop) {
        const i = n++;
        const body = { sender_id: users[i % 8], receiver_id: users[(i * 3 + 1) % 8], content: `failover ${i}`, client_msg_id: `fo-${i}` };
        try {
          const r = await fleet.api.post('/v1/messages', body);
          if (r.status === 202) accepted.set(r.body.message_id, body.receiver_id!);
          else refused.push(r.status);
        } catch (err) {
          refused.push((err as Error).message);
        }
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, sender));
    await waitFor('load under way', () => accepted.size > 300, 30_000);

    // The primary that holds the persist queue (all of its keys share the prefix's hash tag).
    const primary = await cluster.primaryOf(calculateSlot(`${fleet.prefix}:im.persist:wait`));
    const before = accepted.size;
    await primary.kill();
    // Its replica takes over. With one replica per primary the new primary has none left, so sends
    // get 503 (min_replicas cannot be met) until the dead node is back, as a replica of it.
    await waitFor('the replica promoted', async () => (await cluster.primaryOf(calculateSlot(`${fleet.prefix}:im.persist:wait`))) !== primary, 30_000);
    await primary.start();
    await waitFor('sends accepted again after the failover', () => accepted.size > before + 300, 60_000);
    stop = true;
    await load;

    const ids = [...accepted.keys()];
    await waitAllInHistory(db, ids, 60_000);
    // Nobody is online: routed means an offline row for the receiver.
    const missing = await waitFor(
      'every message routed',
      async () => {
        const [rows] = await db.pool.query<RowDataPacket[]>('SELECT user_id, message_id FROM offline_message WHERE message_id IN (?)', [ids]);
        const routed = new Set(rows.map((r) => `${r.user_id}/${r.message_id}`));
        const left = [...accepted].filter(([id, to]) => !routed.has(`${to}/${id}`));
        return left.length === 0 ? left : undefined;
      },
      60_000,
    );
    assert.deepEqual(missing, []);
    const [dups] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM (SELECT client_msg_id FROM message_history WHERE client_msg_id LIKE ? GROUP BY sender_id, client_msg_id HAVING COUNT(*) > 1) d', ['fo-%']);
    assert.equal(Number(dups[0]!.n), 0, 'no send stored twice');
    const internal = fleet.logs('ingest-api').split('\n').filter((l) => l.includes('"INTERNAL"') || l.includes('send failed'));
    for (const r of refused) assert.equal(r, 503, `a send during the failover got ${r}, not 503: ${internal.slice(0, 3).join('\n').slice(0, 1500)}`);
    t.diagnostic(`${ids.length} accepted (${before} before the kill), ${refused.length} refused with 503 during the failover; all in history once and routed`);
  });
});
