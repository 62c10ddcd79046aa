import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { findUp } from '@im/config';
import { createPool } from './pool';


export const MIGRATIONS_DIR = findUp('infra/mysql/migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(file.split('_')[0]),
        name: file,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

/** The error code of a migrate that found another one holding the lock for 60 s. */
export const MIGRATION_LOCKED = 'IM_MIGRATION_LOCKED';

export interface MigrateResult {
  applied: string[];
  current: number;
}

/**
 * Applies the migrations not yet recorded in schema_migrations, in order, one at a time,
 * under a named lock so that two migrators never race. A recorded migration whose file
 * changed since is an error: migrations are append-only.
 */
export async function migrate(url: string, options: { dir?: string; log?: (msg: string) => void } = {}): Promise<MigrateResult> {
  const log = options.log ?? (() => {});
  const pool = createPool({ url, size: 1, multipleStatements: true });
  const conn = await pool.getConnection();
  try {
    const [lock] = await conn.query<RowDataPacket[]>("SELECT GET_LOCK('im_message_migrate', 60) AS ok");
    if (Number(lock[0]?.ok) !== 1) throw Object.assign(new Error('could not take the migration lock within 60 s (is another migrate running?)'), { code: MIGRATION_LOCKED });
    await conn.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INT NOT NULL PRIMARY KEY,
      name VARCHAR(255) NOT NULL,
      checksum CHAR(64) NOT NULL,
      applied_at BIGINT NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
    const [rows] = await conn.query<RowDataPacket[]>('SELECT version, name, checksum FROM schema_migrations');
    const done = new Map(rows.map((r) => [Number(r.version), r as { name: string; checksum: string }]));
    const applied: string[] = [];
    let current = 0;
    for (const m of readMigrations(options.dir)) {
      const prior = done.get(m.version);
      if (prior) {
        if (prior.checksum !== m.checksum) {
          throw new Error(`migration ${m.name} was changed after it was applied (add a new migration instead)`);
        }
      } else {
        log(`applying ${m.name}`);
        await conn.query(m.sql);
        await conn.query('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)', [
          m.version,
          m.name,
          m.checksum,
          Date.now(),
        ]);
        applied.push(m.name);
      }
      current = m.version;
    }
    return { applied, current };
  } finally {
    await conn.query("SELECT RELEASE_LOCK('im_message_migrate')").catch(() => {});
    conn.release();
    await pool.end();
  }
}
