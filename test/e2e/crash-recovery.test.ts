import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import type { TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import type { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { suiteFleet, type SuiteFleet } from '../support/suite-fleet';
import { waitFor } from '../support/wait';

const MESSAGES = 3000;
const BATCH = 50;

describe('crash recovery: workers killed with SIGKILL mid-run lose no message', () => {
  let suite: SuiteFleet;
  let db: TestDatabase;
  let fleet: Fleet;
  let gateway: GatewaySimulator;
  const base = randomUserBase();
  const users = Array.from({ length: 20 }, (_, i) => String(base + BigInt(i + 1)));
  const online = new Set(users.slice(0, 10));

  before(async () => {
    suite = await suiteFleet(['ingest-api', 'worker-persist', 'worker-delivery']);
    ({ db, fleet } = suite);
    for (const u of users) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: `u${u.slice(-2)}` })).status, 204);
    gateway = new GatewaySimulator(fleet.api);
    await gateway.connect([...online]);
  });

  after(async () => {
    await gateway?.close();
    await suite?.close();
  });

  it('persists every accepted message exactly once and routes it, across SIGKILL and restart of both workers', async () => {
    const accepted = new Map<string, string>(); // message_id -> receiver
    let sent = 0;
    const sender = async () => {
      while (sent < MESSAGES) {
        const start = sent;
        sent += BATCH;
        const messages = Array.from({ length: BATCH }, (_, i) => {
          const n = start + i;
          return { sender_id: users[n % 20], receiver_id: users[(n * 7 + 3) % 20], content: `crash test ${n} 🚀`, client_msg_id: `crash-${n}` };
        });
        const r = await fleet.api.post('/v1/messages/batch', { messages });
        assert.equal(r.status, 200);
        r.body.results.forEach((res: any, i: number) => {
          assert.ok(res.message_id, `item ${start + i} was refused: ${JSON.stringify(res)}`);
          accepted.set(res.message_id, messages[i]!.receiver_id!);
        });
      }
    };
    const load = Promise.all([sender(), sender(), sender()]);

    await waitFor('a third of the load', () => sent >= MESSAGES / 3, 30_000);
    assert.equal(await fleet.kill('worker-persist', 'SIGKILL'), null);
    await waitFor('half of the load', () => sent >= MESSAGES / 2, 30_000);
    assert.equal(await fleet.kill('worker-delivery', 'SIGKILL'), null);
    await sleep(500);
    await fleet.start('worker-persist');
    await fleet.start('worker-delivery');
    await load;
    assert.equal(accepted.size, MESSAGES);

    const ids = [...accepted.keys()];
    await waitFor(
      `all ${MESSAGES} messages in history`,
      async () => {
        const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE sender_id IN (?)', [users]);
        return Number(rows[0]!.n) === MESSAGES;
      },
      90_000,
    );
    const [present] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE message_id IN (?)', [ids]);
    assert.equal(Number(present[0]!.n), MESSAGES, 'every accepted id is in history, and nothing else these users sent is');

    const routed = async () => {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT user_id, message_id FROM offline_message WHERE user_id IN (?)', [users]);
      const offline = new Set(rows.map((r) => `${r.user_id}/${r.message_id}`));
      const heard = new Set(gateway.received.map((r) => `${r.channel.slice(5)}/${r.payload.message_id}`));
      const missing = ids.filter((id) => {
        const key = `${accepted.get(id)}/${id}`;
        return !offline.has(key) && !(online.has(accepted.get(id)!) && heard.has(key));
      });
      return { missing, offlineRows: rows.length, offline };
    };
    const result = await waitFor(
      'every message routed (published to an online gateway or stored offline)',
      async () => {
        const r = await routed();
        return r.missing.length === 0 ? r : undefined;
      },
      90_000,
    );
    for (const key of result.offline) {
      const [user, id] = key.split('/');
      assert.equal(accepted.get(id!), user, 'offline rows only for the message receiver');
    }
    const offlineUsersMessages = ids.filter((id) => !online.has(accepted.get(id)!)).length;
    assert.ok(result.offlineRows >= offlineUsersMessages, 'every message to an offline user has its row');
  });
});
