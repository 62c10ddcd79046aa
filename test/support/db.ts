import type { RowDataPacket } from 'mysql2/promise';
import { createPool, migrate, type Pool } from '@im/db';
import { testServers, uniqueName } from './env';
import { waitFor } from './wait';

export interface TestDatabase {
  url: string;
  name: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file (on the test stack's server, or on `mysqlUrl`'s). */
export async function createTestDatabase(mysqlUrl = testServers().mysqlUrl): Promise<TestDatabase> {
  const name = uniqueName('im_t_');
  const admin = createPool({ url: mysqlUrl, size: 1 });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const u = new URL(mysqlUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  await migrate(url);
  const pool = createPool({ url, size: 4 });
  return {
    url,
    name,
    pool,
    async drop() {
      await pool.end();
      const a = createPool({ url: mysqlUrl, size: 1 });
      await a.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await a.end();
    },
  };
}

/** Waits until every one of `ids` is in message_history (the fault suites' first count). */
export async function waitAllInHistory(db: TestDatabase, ids: readonly string[], timeoutMs: number): Promise<void> {
  await waitFor(
    `all ${ids.length} accepted messages in history`,
    async () => {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE message_id IN (?)', [ids]);
      return Number(rows[0]!.n) === ids.length;
    },
    timeoutMs,
  );
}
