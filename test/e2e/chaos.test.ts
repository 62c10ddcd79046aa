import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { createTestDatabase, waitAllInHistory, type TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { PrivateMysql } from '../support/private-mysql';
import { PrivateRedis } from '../support/private-redis';
import { waitFor } from '../support/wait';

/**
 * The fleet runs on a Redis and a MariaDB of this file's own, so restarting them disturbs no
 * other test file running beside it.
 */
describe('chaos: MariaDB and Redis restarted under load lose no accepted message', () => {
  let mysql: PrivateMysql;
  let redis: PrivateRedis;
  let db: TestDatabase;
  let fleet: Fleet;
  let gateway: GatewaySimulator;
  const base = randomUserBase();
  const users = Array.from({ length: 12 }, (_, i) => String(base + BigInt(i + 1)));
  const online = users.slice(0, 6);
  const group = String(base + 100n);

  before(async () => {
    [mysql, redis] = await Promise.all([new PrivateMysql().start(), new PrivateRedis().start()]);
    db = await createTestDatabase(mysql.url);
    fleet = await new Fleet(db.url, { REDIS_URL: redis.url }).startAll(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
    for (const u of users) await fleet.api.put(`/v1/users/${u}`, { name: u });
    await fleet.api.put(`/v1/groups/${group}`, { name: 'chaos' });
    await fleet.api.post(`/v1/groups/${group}/members`, { add: users });
    gateway = new GatewaySimulator(fleet.api, 'gw-test', { redis_url: redis.url, cluster_nodes: [] });
    await gateway.connect(online, 600);
  });

  after(async () => {
    await gateway?.close();
    await fleet?.stop();
    await db?.drop();
    await Promise.all([mysql?.stop(), redis?.stop()]);
  });

  /** Sends until stopped; returns accepted message ids (with receivers) and every non-2xx status seen. */
  function load() {
    const accepted = new Map<string, string[]>();
    const refused: (number | string)[] = [];
    let stop = false;
    let n = 0;
    const loop = (async () => {
      while (!stop) {
        const messages: object[] = users.map((from, i) => ({ sender_id: from, receiver_id: users[(i + 1 + (n % 11)) % users.length], content: `chaos ${n++} ✓` }));
        messages.push({ sender_id: users[0], group_id: group, content: `chaos group ${n}` });
        try {
          const r = await fleet.api.post('/v1/messages/batch', { messages });
          if (r.status !== 200) refused.push(r.status);
          else {
            r.body.results.forEach((res: any, i: number) => {
              const m = messages[i] as { receiver_id?: string; group_id?: string; sender_id: string };
              if (res.message_id) accepted.set(res.message_id, m.receiver_id ? [m.receiver_id] : users.filter((u) => u !== m.sender_id));
              else refused.push(res.error.code);
            });
          }
        } catch (err) {
          refused.push((err as Error).message);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    return {
      accepted,
      refused,
      async finish() {
        stop = true;
        await loop;
      },
    };
  }

  async function verify(accepted: Map<string, string[]>) {
    const ids = [...accepted.keys()];
    assert.ok(ids.length > 100, `only ${ids.length} messages were accepted`);
    await waitAllInHistory(db, ids, 120_000);
    const unrouted = await waitFor(
      'every delivery routed',
      async () => {
        const [rows] = await db.pool.query<RowDataPacket[]>('SELECT user_id, message_id FROM offline_message WHERE message_id IN (?)', [ids]);
        const offline = new Set(rows.map((r) => `${r.user_id}/${r.message_id}`));
        const heard = new Set(gateway.received.map((r) => `${r.channel.slice(5)}/${r.payload.message_id}`));
        const missing = [...accepted].flatMap(([id, to]) => to.filter((u) => !offline.has(`${u}/${id}`) && !heard.has(`${u}/${id}`)).map((u) => `${u}/${id}`));
        return missing.length === 0 ? missing : undefined;
      },
      120_000,
    );
    assert.deepEqual(unrouted, []);
  }

  it('restarts MariaDB mid-run: every accepted message is persisted once and routed', async () => {
    const l = load();
    await waitFor('load under way', () => l.accepted.size > 200);
    await mysql.shutdown();
    await new Promise((r) => setTimeout(r, 1500));
    await mysql.start();
    await waitFor('more load after the restart', () => l.accepted.size > 600, 60_000);
    await l.finish();
    for (const r of l.refused) assert.ok(r === 503 || r === 'UNAVAILABLE', `a send during the outage got ${r}, not 503`);
    await verify(l.accepted);
  });

  it('restarts Redis (AOF on) mid-run: sends in the gap get 503, accepted ones are all delivered', async () => {
    const l = load();
    await waitFor('load under way', () => l.accepted.size > 200);
    // SHUTDOWN writes the AOF out; a crash would lose at most the last second (appendfsync everysec).
    await redis.shutdown();
    await new Promise((r) => setTimeout(r, 1000));
    await redis.start();
    await waitFor('more load after the restart', () => l.accepted.size > 600, 60_000);
    await l.finish();
    for (const r of l.refused) assert.ok(r === 503 || r === 'UNAVAILABLE', `a send during the outage got ${r}, not 503`);
    assert.ok(l.refused.length > 0, 'sends during the outage were refused');
    await verify(l.accepted);
  });
});
