import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { topology } from '@im/redis';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import { Fleet } from '../support/fleet';
import { PrivateRedis } from '../support/private-redis';
import { waitFor } from '../support/wait';

/**
 * seq never repeats in a conversation, even when Redis comes back older than MySQL (restored from
 * an older AOF, a replica that lagged, the last second of everysec lost) or its counter is gone
 * while history no longer holds the highest seq (retention dropped it, every message recalled).
 */
describe('seq never repeats, whatever Redis lost', () => {
  let db: TestDatabase;
  let redis: PrivateRedis;
  let fleet: Fleet;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const [a, b, c, d, e] = [id(1), id(2), id(3), id(4), id(5)];

  before(async () => {
    db = await createTestDatabase();
    redis = await new PrivateRedis().start();
    fleet = await new Fleet(db.url, { REDIS_URL: redis.url }).startAll(['ingest-api', 'worker-persist']);
    for (const u of [a, b, c, d, e]) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: u })).status, 204);
  });

  after(async () => {
    await fleet?.stop();
    await redis?.stop();
    await db?.drop();
  });

  async function send(from: string, to: string, n: number, label: string): Promise<{ message_id: string; seq: number }[]> {
    const out = [];
    for (let i = 0; i < n; i++) {
      const r = await waitFor(`send ${label} ${i}`, async () => {
        const res = await fleet.api.post('/v1/messages', { sender_id: from, receiver_id: to, content: `${label} ${i}` });
        return res.status === 202 ? res.body : undefined;
      }, 30_000);
      out.push(r);
    }
    return out;
  }

  async function persisted(ids: string[]): Promise<void> {
    await waitFor(`${ids.length} messages in history`, async () => {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE message_id IN (?)', [ids]);
      return Number(rows[0]!.n) === ids.length;
    }, 30_000);
  }

  async function seqs(conversation: string): Promise<number[]> {
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT seq FROM message_history WHERE conversation = ? ORDER BY message_id', [conversation]);
    return rows.map((r) => Number(r.seq));
  }

  /** Deletes the conversation's seq counter wherever the key layout puts it (it expired, or Redis lost it). */
  async function dropCounter(conversation: string): Promise<void> {
    const client = redis.client();
    const found = (await client.keys(`*seq*`)).filter((k) => k.endsWith(conversation) || k.endsWith(`${conversation}}`));
    assert.equal(found.length, 1, `one counter for ${conversation}: ${found.join(', ')}`);
    await client.del(...found);
    client.disconnect();
  }

  it('restored from an older AOF, Redis does not hand out a seq already in history', async () => {
    const first = await send(a, b, 10, 'before the backup');
    await persisted(first.map((m) => m.message_id));
    await redis.shutdown();
    const backup = redis.backup();
    await redis.start();
    const second = await send(a, b, 10, 'after the backup');
    await persisted(second.map((m) => m.message_id));
    // Redis comes back from the older backup: its counter says 10, history holds up to 20.
    await redis.shutdown();
    redis.restore(backup);
    rmSync(backup, { recursive: true, force: true });
    await redis.start();
    const third = await send(a, b, 10, 'after the restore');
    await persisted(third.map((m) => m.message_id));

    const answered = [...first, ...second, ...third].map((m) => m.seq);
    assert.equal(new Set(answered).size, 30, `every 202 carried its own seq: ${answered.join(',')}`);
    const stored = await seqs(`s:${a}:${b}`);
    assert.equal(stored.length, 30);
    assert.equal(new Set(stored).size, 30, `no seq twice in history: ${stored.join(',')}`);
    for (let i = 1; i < stored.length; i++) assert.ok(stored[i]! > stored[i - 1]!, 'seq grows with message time');
  });

  it('a seq handed out again (its counter went back while nothing told it so) is stored once: the second message gets a new seq, counted', async () => {
    const conversation = `s:${a}:${e}`;
    const first = await send(a, e, 3, 'first three');
    await persisted(first.map((m) => m.message_id));
    // What a failover to a replica that lagged can leave behind: the counter one message back,
    // in the current epoch, so admission trusts it and hands seq 2 out again.
    const client = redis.client();
    await client.hset(topology({ prefix: fleet.prefix, shards: 1 }).shard(0).keys.seq(conversation), 'n', 1);
    client.disconnect();
    const [again] = await send(a, e, 1, 'numbered twice');
    assert.equal(again!.seq, 2, 'the 202 carried the seq the counter handed out again');
    await persisted([again!.message_id]);

    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT message_id, seq FROM message_history WHERE conversation = ? ORDER BY seq', [conversation]);
    const stored = rows.map((r) => Number(r.seq));
    assert.deepEqual(stored, [1, 2, 3, 4], `each seq once in history: ${stored.join(',')}`);
    assert.equal(String(rows.find((r) => Number(r.seq) === 4)!.message_id), again!.message_id, 'the later message took the new seq');
    const metrics = await (await fetch(`http://127.0.0.1:${fleet.procs.get('worker-persist')!.port}/metrics`)).text();
    assert.match(metrics, /im_errors_total\{component="im.persist",kind="seq_conflict"[^}]*\} 1\b/, `the conflict was counted: ${metrics.split("\n").filter((l) => l.includes("seq_conflict")).join(" | ")}`);
    const [next] = await send(a, e, 1, 'after the conflict');
    assert.equal(next!.seq, 5, 'the counter went on above the new seq');
  });

  it('after history retention dropped the highest seq and the counter expired, continues above it', async () => {
    const sent = await send(a, c, 5, 'kept in conversation state');
    await persisted(sent.map((m) => m.message_id));
    // Retention dropped the partition holding these rows; the idle counter expired.
    await db.pool.query('DELETE FROM message_history WHERE conversation = ?', [`s:${a}:${c}`]);
    await dropCounter(`s:${a}:${c}`);
    const [next] = await send(a, c, 1, 'after retention');
    assert.equal(next!.seq, 6);
  });

  it('after every message of a conversation was recalled and the counter expired, continues above them', async () => {
    const sent = await send(a, d, 2, 'recalled');
    await persisted(sent.map((m) => m.message_id));
    for (const m of sent) assert.equal((await fleet.api.del(`/v1/messages/${m.message_id}?user_id=${a}`)).status, 200);
    await dropCounter(`s:${a}:${d}`);
    const [next] = await send(a, d, 1, 'after the recall');
    assert.equal(next!.seq, 3);
  });
});
