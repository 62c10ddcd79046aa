import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { placeholders } from '../pool';

export interface GroupsRepository {
  upsert(id: string, name: string, now: number): Promise<void>;
  /** The subset of ids that are known groups. */
  existing(ids: readonly string[]): Promise<Set<string>>;
  /** Adds and removes members in one transaction; returns the member count after it. */
  changeMembers(groupId: string, add: readonly string[], remove: readonly string[], now: number): Promise<number>;
  /** Every member, by user id. */
  members(groupId: string): Promise<string[]>;
  /** At most `limit` members by user id, after `afterUserId` when given: one page of the list. */
  membersPage(groupId: string, afterUserId: string | null, limit: number): Promise<string[]>;
}

export function groupsRepository(pool: Pool): GroupsRepository {
  return {
    async upsert(id, name, now) {
      await pool.execute(
        'INSERT INTO im_group (id, name, created_at, updated_at) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name), updated_at = VALUES(updated_at)',
        [id, name, now, now],
      );
    },
    async existing(ids) {
      if (ids.length === 0) return new Set();
      const [rows] = await pool.query<RowDataPacket[]>('SELECT id FROM im_group WHERE id IN (?)', [ids]);
      return new Set(rows.map((r) => String(r.id)));
    },
    async changeMembers(groupId, add, remove, now) {
      const conn = await pool.getConnection();
      try {
        await conn.beginTransaction();
        for (let i = 0; i < add.length; i += 1000) {
          const chunk = add.slice(i, i + 1000);
          await conn.query<ResultSetHeader>(
            `INSERT IGNORE INTO group_member (group_id, user_id, joined_at) VALUES ${placeholders(chunk.length, 3)}`,
            chunk.flatMap((u) => [groupId, u, now]),
          );
        }
        for (let i = 0; i < remove.length; i += 1000) {
          await conn.query('DELETE FROM group_member WHERE group_id = ? AND user_id IN (?)', [groupId, remove.slice(i, i + 1000)]);
        }
        const [rows] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM group_member WHERE group_id = ?', [groupId]);
        await conn.commit();
        return Number(rows[0]?.n ?? 0);
      } catch (err) {
        await conn.rollback().catch(() => {});
        throw err;
      } finally {
        conn.release();
      }
    },
    async members(groupId) {
      const [rows] = await pool.query<RowDataPacket[]>('SELECT user_id FROM group_member WHERE group_id = ? ORDER BY user_id', [groupId]);
      return rows.map((r) => String(r.user_id));
    },
    async membersPage(groupId, afterUserId, limit) {
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT user_id FROM group_member WHERE group_id = ?${afterUserId === null ? '' : ' AND user_id > ?'} ORDER BY user_id LIMIT ?`,
        afterUserId === null ? [groupId, limit] : [groupId, afterUserId, limit],
      );
      return rows.map((r) => String(r.user_id));
    },
  };
}
