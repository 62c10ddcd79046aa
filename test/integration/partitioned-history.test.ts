import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { createPool, migrate, MIGRATIONS_DIR, partitionsRepository, readMigrations, type Pool } from '@im/db';
import { firstIdAt } from '@im/contracts';
import { maintainPartitions, monthPartition, monthStart } from '@im/db';
import { testServers, uniqueName } from '../support/env';

/** An empty database of its own (not migrated), dropped after the test. */
async function emptyDatabase(): Promise<{ url: string; pool: Pool; drop(): Promise<void> }> {
  const { mysqlUrl } = testServers();
  const name = uniqueName('im_t_');
  const admin = createPool({ url: mysqlUrl, size: 1 });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const u = new URL(mysqlUrl);
  u.pathname = `/${name}`;
  const pool = createPool({ url: u.toString(), size: 2 });
  return {
    url: u.toString(),
    pool,
    async drop() {
      await pool.end();
      const a = createPool({ url: mysqlUrl, size: 1 });
      await a.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await a.end();
    },
  };
}

const historyRow = (id: string) => [id, 's:1:2', 1, '1', '2', null, 'text', 'kept as it was', null, Date.now()];
const insertHistory = (pool: Pool, id: string) =>
  pool.query(
    'INSERT INTO message_history (message_id, conversation, seq, sender_id, receiver_id, group_id, message_type, content, client_msg_id, created_at) VALUES (?)',
    [historyRow(id)],
  );

describe('message_history is partitioned by month from the first day', () => {
  const dbs: { drop(): Promise<void> }[] = [];
  let dir = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'im-migrations-'));
  });

  after(async () => {
    for (const d of dbs) await d.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a new installation gets pYYYYMM of this month and p_future, as `partitions enable` would leave it', async () => {
    const db = await emptyDatabase();
    dbs.push(db);
    const r = await migrate(db.url);
    assert.ok(r.applied.includes('010_partitioned_history.sql'));
    const repo = partitionsRepository(db.pool);
    const now = Date.now();
    const month = monthPartition(monthStart(now));
    assert.deepEqual(
      (await repo.list()).map((p) => [p.name, p.lessThan]),
      [
        [month.name, firstIdAt(monthStart(now, 1))],
        ['p_future', 'MAXVALUE'],
      ],
    );
    // The cleaner takes it from there: three months ready ahead.
    const report = await maintainPartitions(repo, now, 3, 0);
    assert.equal(report.partitioned, true);
    assert.deepEqual(report.added, [1, 2, 3].map((m) => monthPartition(monthStart(now, m)).name));
    // Page compressed (011), the partitions the cleaner added included: their tablespaces carry the
    // same flags as the first, and not those of an uncompressed table.
    const [create] = await db.pool.query<RowDataPacket[]>('SHOW CREATE TABLE message_history');
    assert.match(String(create[0]!['Create Table']), /PAGE_COMPRESSED`?='?1/);
    const schema = new URL(db.url).pathname.slice(1);
    const [spaces] = await db.pool.query<RowDataPacket[]>('SELECT NAME, FLAG FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME LIKE ?', [`${schema}/%`]);
    const flag = (name: string) => spaces.filter((t) => String(t.NAME).startsWith(`${schema}/${name}`)).map((t) => Number(t.FLAG));
    assert.equal(flag('message_history#P#').length, 5);
    assert.deepEqual(new Set(flag('message_history#P#')), new Set(flag('message_history#P#').slice(0, 1)));
    assert.notEqual(flag('message_history#P#')[0], flag('offline_message')[0], 'offline_message is not compressed, history is');
    // Rows land in the month of their id.
    await insertHistory(db.pool, firstIdAt(now));
    const [rows] = await db.pool.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM message_history PARTITION (${month.name})`);
    assert.equal(Number(rows[0]!.n), 1);
  });

  it('an existing installation with rows keeps its table; the documented enable path still works', async () => {
    const db = await emptyDatabase();
    dbs.push(db);
    // The schema as it was before 010: only the earlier migrations.
    for (const m of readMigrations().filter((m) => m.version < 10)) copyFileSync(join(MIGRATIONS_DIR, m.name), join(dir, m.name));
    await migrate(db.url, { dir });
    const id = firstIdAt(Date.now() - 86_400_000);
    await insertHistory(db.pool, id);

    const r = await migrate(db.url);
    assert.ok(r.applied.includes('010_partitioned_history.sql'), 'the migration is recorded');
    const repo = partitionsRepository(db.pool);
    assert.deepEqual(await repo.list(), [], 'a table holding rows is not rebuilt by a migration');
    const [kept] = await db.pool.query<RowDataPacket[]>('SELECT content FROM message_history WHERE message_id = ?', [id]);
    assert.equal(kept[0]!.content, 'kept as it was');

    await repo.enable(monthPartition(monthStart(Date.now())));
    assert.equal((await repo.list()).length, 2);
    assert.equal((await migrate(db.url)).applied.length, 0, 'nothing left to apply, and no checksum changed');
  });

  it('retention drops whole months of history and the seq claims of the messages they held, and keeps the rest', async () => {
    const db = await emptyDatabase();
    dbs.push(db);
    await migrate(db.url);
    const repo = partitionsRepository(db.pool);
    const now = Date.now();
    await maintainPartitions(repo, now, 3, 0);
    const old = firstIdAt(now);
    const kept = firstIdAt(monthStart(now, 3));
    for (const [i, id] of [old, kept].entries()) {
      await insertHistory(db.pool, id);
      await db.pool.query('INSERT INTO message_seq (conversation, seq, message_id) VALUES (?, ?, ?)', ['s:1:2', i + 1, id]);
    }
    // Two months on with 30 days of retention: this month's partition ended before the cutoff.
    const report = await maintainPartitions(repo, monthStart(now, 2) + 86_400_000, 3, 30);
    assert.deepEqual(report.dropped, [monthPartition(monthStart(now)).name]);
    const [history] = await db.pool.query<RowDataPacket[]>('SELECT message_id FROM message_history');
    const [claims] = await db.pool.query<RowDataPacket[]>('SELECT message_id FROM message_seq');
    assert.deepEqual(history.map((r) => String(r.message_id)), [kept]);
    assert.deepEqual(claims.map((r) => String(r.message_id)), [kept], 'the claims of the dropped month are gone, the later ones kept');
  });

  it('leaves a table that an operator already partitioned alone', async () => {
    const db = await emptyDatabase();
    dbs.push(db);
    for (const m of readMigrations().filter((m) => m.version < 10)) copyFileSync(join(MIGRATIONS_DIR, m.name), join(dir, m.name));
    await migrate(db.url, { dir });
    const repo = partitionsRepository(db.pool);
    const lastMonth = monthPartition(monthStart(Date.now(), -1));
    await repo.enable(lastMonth);
    await migrate(db.url);
    assert.deepEqual((await repo.list()).map((p) => p.name), [lastMonth.name, 'p_future']);
  });
});
