import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { createPool, devicesRepository, migrate, MIGRATIONS_DIR, offlineRepository, readMigrations } from '@im/db';
import { firstIdAt } from '@im/contracts';
import { testServers, uniqueName } from '../support/env';

/**
 * Migration 015 (devices): the offline rows and page marks of a release without devices become
 * the `default` device's sync, without loss, and a pull with a cursor handed out before the
 * upgrade still acknowledges exactly its page.
 */
describe('the offline rows of a release without devices become the default device', () => {
  const { mysqlUrl } = testServers();
  const name = uniqueName('im_t_');
  const u = new URL(mysqlUrl);
  u.pathname = `/${name}`;
  const pool = createPool({ url: u.toString(), size: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'im-migrations-'));

  after(async () => {
    await pool.end();
    const admin = createPool({ url: mysqlUrl, size: 1 });
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every row under device default, registers the device, and honours a cursor handed out before', async () => {
    const admin = createPool({ url: mysqlUrl, size: 1 });
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.end();
    for (const m of readMigrations().filter((m) => m.version < 15)) copyFileSync(join(MIGRATIONS_DIR, m.name), join(dir, m.name));
    await migrate(u.toString(), { dir });

    const [alice, bob, carol] = ['9007199254740993', '9007199254740995', '9007199254740997'];
    const now = Date.now();
    const ids = Array.from({ length: 5 }, (_, i) => (BigInt(firstIdAt(now - 60_000)) + BigInt(i) * 4096n).toString());
    for (const [uid, nm] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']]) await pool.query('INSERT INTO `user` (id, name, created_at, updated_at) VALUES (?, ?, 0, 0)', [uid, nm]);
    for (const [i, id] of ids.entries()) {
      await pool.query(
        'INSERT INTO message_history (message_id, conversation, seq, sender_id, receiver_id, group_id, message_type, content, client_msg_id, created_at) VALUES (?)',
        [[id, `s:${alice}:${bob}`, i + 1, alice, bob, null, 'text', `m${i}`, null, now]],
      );
    }
    // Bob holds 5 rows, of which the first 2 were handed out in a page that ended at ids[1]; carol 1.
    for (const id of ids) await pool.query('INSERT INTO offline_message (user_id, message_id, created_at) VALUES (?, ?, ?)', [bob, id, now]);
    await pool.query('UPDATE offline_message SET page_end = ?, pulled_at = ? WHERE user_id = ? AND message_id IN (?)', [ids[1], now, bob, ids.slice(0, 2)]);
    await pool.query('INSERT INTO offline_message (user_id, message_id, created_at) VALUES (?, ?, ?)', [carol, ids[4], now]);

    const r = await migrate(u.toString());
    assert.ok(r.applied.some((a) => a.startsWith('015_')), 'migration 015 applied');

    const [rows] = await pool.query<RowDataPacket[]>('SELECT user_id, device_id, message_id, kind, page_end FROM offline_message ORDER BY user_id, message_id');
    assert.deepEqual(
      rows.map((x) => [String(x.user_id), x.device_id, String(x.message_id), x.kind]),
      [...ids.map((id) => [bob, 'default', id, 'message']), [carol, 'default', ids[4], 'message']],
      'every row kept, each the default device',
    );
    const devices = devicesRepository(pool);
    assert.deepEqual((await devices.list(bob)).map((d) => d.device_id), ['default']);
    assert.deepEqual((await devices.list(carol)).map((d) => d.device_id), ['default']);
    assert.deepEqual((await devices.list(alice)).map((d) => d.device_id), [], 'a user without rows gets no device');

    // The cursor bob's client held before the upgrade acknowledges exactly its page.
    const offline = offlineRepository(pool);
    const page = await offline.pull(bob, ids[1]!, 10, Date.now());
    assert.deepEqual(page.messages.map((m) => m.message_id), ids.slice(2));
    const synced = await offline.sync(bob, 'default', null, 10, Date.now());
    assert.deepEqual(synced.items.map((i) => [i.kind, i.id]), ids.slice(2).map((id) => ['message', id]), "the same rows through the default device's sync");
  });
});
