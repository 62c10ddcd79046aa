import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { RowDataPacket } from 'mysql2/promise';
import { monthPartition, monthStart, partitionsRepository } from '@im/db';
import { firstIdAt } from '@im/contracts';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, testServers } from '../support/env';
import { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { waitFor } from '../support/wait';

const DAY = 86_400_000;
const CAP = 5;

describe('worker-cleaner and guaranteed delivery', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let gateway: GatewaySimulator;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const [alice, bob, carol, hoarder] = [id(1), id(2), id(3), id(4)];
  let nextMessage = BigInt(firstIdAt(Date.now() - 40 * DAY));

  /** History and offline rows written directly, stored `ageDays` ago. */
  async function offlineRows(userId: string, count: number, ageDays: number): Promise<string[]> {
    const ids: string[] = [];
    const stored = Date.now() - ageDays * DAY;
    for (let i = 0; i < count; i += 1000) {
      const chunk = Array.from({ length: Math.min(1000, count - i) }, () => (nextMessage += 1n).toString());
      await db.pool.query(
        `INSERT INTO message_history (message_id, conversation, seq, sender_id, receiver_id, content, created_at) VALUES ${chunk.map(() => "(?, 'x', 1, ?, ?, 'old', ?)").join(', ')}`,
        chunk.flatMap((m) => [m, alice, userId, stored]),
      );
      await db.pool.query(`INSERT INTO offline_message (user_id, message_id, created_at) VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')}`, chunk.flatMap((m) => [userId, m, stored]));
      ids.push(...chunk);
    }
    return ids;
  }

  async function offlineOf(userId: string): Promise<string[]> {
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT message_id FROM offline_message WHERE user_id = ? ORDER BY message_id', [userId]);
    return rows.map((r) => String(r.message_id));
  }

  before(async () => {
    db = await createTestDatabase();
    // The whole suite runs on a partitioned message_history: a new installation has one from the start.
    assert.equal((await partitionsRepository(db.pool).list()).at(-1)?.name, 'p_future');
    fleet = await new Fleet(db.url, {
      IM_CLEANER_INTERVAL_S: '1',
      IM_MESSAGE_LIMITS_ACK_TIMEOUT_S: '2',
      IM_MESSAGE_LIMITS_MAX_OFFLINE_MESSAGES: String(CAP),
    }).startAll(['ingest-api', 'worker-persist', 'worker-delivery', 'worker-cleaner']);
    for (const u of [alice, bob, carol, hoarder]) await fleet.api.put(`/v1/users/${u}`, { name: u.slice(-1) });
    gateway = new GatewaySimulator(fleet.api);
    await gateway.connect([bob]);
  });

  after(async () => {
    await gateway?.close();
    await fleet?.stop();
    await db?.drop();
  });

  it('creates monthly history partitions ahead of time and lists them', async () => {
    const expected = [0, 1, 2, 3].map((m) => monthPartition(monthStart(Date.now(), m)).name);
    const parts = await waitFor('partitions ahead', async () => {
      const list = await partitionsRepository(db.pool).list();
      return list.length >= 5 ? list : undefined;
    });
    assert.deepEqual(parts.map((p) => p.name), [...expected, 'p_future']);
    assert.equal(parts.at(-1)!.lessThan, 'MAXVALUE');
    assert.equal(parts[1]!.lessThan, firstIdAt(monthStart(Date.now(), 2)));
  });

  it('deletes offline rows older than the TTL and keeps newer ones', async () => {
    const old = await offlineRows(carol, 3, 31);
    const fresh = await offlineRows(carol, 2, 29);
    await waitFor('expired rows gone', async () => (await offlineOf(carol)).length === 2);
    assert.deepEqual(await offlineOf(carol), fresh);
    assert.ok(!(await offlineOf(carol)).some((m) => old.includes(m)));
  });

  it('keeps the last sweeps with their final progress, which the queue dashboard shows', async () => {
    const queue = new Queue('im.cleaner', { connection: { url: testServers().redisUrl } as never, prefix: fleet.prefix });
    try {
      const done = await waitFor('a finished sweep that deleted expired rows', async () => {
        const jobs = await queue.getCompleted(0, 49);
        return jobs.find((j) => (j.progress as { step?: string; expired?: number }).step === 'done' && (j.progress as { expired: number }).expired > 0);
      });
      const p = done.progress as Record<string, unknown>;
      assert.deepEqual(Object.keys(p).sort(), ['devicesForgotten', 'devicesOverCap', 'expired', 'partitionsAdded', 'partitionsDropped', 'startedAt', 'step', 'trimmed']);
      assert.equal(typeof p.startedAt, 'number');
      assert.ok((await queue.getCompletedCount()) <= 50, 'only the last 50 sweeps are kept');
    } finally {
      await queue.close();
    }
  });

  it('trims a user over the cap to exactly the newest max_offline_messages', async () => {
    const ids = await offlineRows(hoarder, 12, 1);
    await waitFor('trimmed to the cap', async () => (await offlineOf(hoarder)).length === CAP);
    assert.deepEqual(await offlineOf(hoarder), ids.slice(-CAP));
  });

  it('runs one sweep at a time when two cleaners run at once', async () => {
    const second = new Fleet(db.url, { IM_CLEANER_INTERVAL_S: '1', IM_QUEUE_PREFIX: fleet.prefix });
    await second.start('worker-cleaner');
    try {
      const expired = await offlineRows(id(50), 60_000, 40);
      assert.equal(expired.length, 60_000);
      const queue = new Queue('im.cleaner', { connection: { url: testServers().redisUrl } as never, prefix: fleet.prefix });
      let maxActive = 0;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        maxActive = Math.max(maxActive, await queue.getActiveCount());
        if ((await offlineOf(id(50))).length === 0) break;
        await sleep(20);
      }
      await queue.close();
      assert.equal((await offlineOf(id(50))).length, 0, 'the expired rows were deleted');
      assert.equal(maxActive <= 1, true, `at most one sweep active at a time (saw ${maxActive})`);
    } finally {
      await second.stop();
    }
  });

  it('stores a published message that is never acknowledged as offline, and not an acknowledged one', async () => {
    const unacked = await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: bob, content: 'did you get this?' });
    const acked = await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: bob, content: 'ack me' });
    await gateway.waitForCount(bob, 2);
    assert.deepEqual((await gateway.ack(bob, [acked.body.message_id])).body, { updated: 1 });
    assert.deepEqual(await offlineOf(bob), [], 'nothing offline while the ack timeout runs');
    const pulled = await waitFor('redelivery to offline', async () => {
      const r = await fleet.api.get(`/v1/users/${bob}/offline-messages`);
      return r.body.messages.length > 0 ? r.body.messages : undefined;
    });
    assert.deepEqual(pulled.map((m: any) => m.message_id), [unacked.body.message_id]);
    // A late ack does no harm.
    assert.deepEqual((await gateway.ack(bob, [unacked.body.message_id])).body, { updated: 1 });
    await sleep(2500);
    assert.deepEqual(await offlineOf(bob), [unacked.body.message_id]);
    const metrics = await (await fetch(`http://127.0.0.1:${fleet.procs.get('worker-delivery')!.port}/metrics`)).text();
    assert.match(metrics, /im_deliveries_total\{route="redelivered"[^}]*\} 1\b/);
  });
});
