import type { Pool, RowDataPacket } from 'mysql2/promise';

export interface UsersRepository {
  upsert(id: string, name: string, now: number): Promise<void>;
  /** The subset of ids that are known users. */
  existing(ids: readonly string[]): Promise<Set<string>>;
}

export function usersRepository(pool: Pool): UsersRepository {
  return {
    async upsert(id, name, now) {
      await pool.execute(
        'INSERT INTO `user` (id, name, created_at, updated_at) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name), updated_at = VALUES(updated_at)',
        [id, name, now, now],
      );
    },
    async existing(ids) {
      if (ids.length === 0) return new Set();
      const [rows] = await pool.query<RowDataPacket[]>('SELECT id FROM `user` WHERE id IN (?)', [ids]);
      return new Set(rows.map((r) => String(r.id)));
    },
  };
}
