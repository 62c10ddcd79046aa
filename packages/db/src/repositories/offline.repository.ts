import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { MessageType } from '@im/contracts';
import { placeholders } from '../pool';

export interface OfflineRow {
  user_id: string;
  message_id: string;
}

/** The contract's OfflineMessage. */
export interface OfflineMessage {
  id: string;
  message_id: string;
  seq: number;
  sender_id: string;
  sender_name: string | null;
  group_id: string | null;
  group_name: string | null;
  content: string;
  message_type: MessageType;
  created_at: number;
}

export interface OfflineRepository {
  /** Stores many offline rows in one statement; a row already stored is left alone. Returns rows inserted. */
  insertMany(rows: readonly OfflineRow[], now: number): Promise<number>;
  /**
   * Acknowledge-by-cursor pull: deletes the user's rows up to lastMessageId (when given),
   * then returns the next `limit` rows in ascending message_id and whether more remain.
   */
  pull(userId: string, lastMessageId: string | null, limit: number): Promise<{ messages: OfflineMessage[]; hasMore: boolean }>;
  countForUser(userId: string): Promise<number>;
}

export function offlineRepository(pool: Pool): OfflineRepository {
  return {
    async insertMany(rows, now) {
      if (rows.length === 0) return 0;
      const values: unknown[] = [];
      for (const r of rows) values.push(r.user_id, r.message_id, now);
      const [res] = await pool.query<ResultSetHeader>(
        `INSERT IGNORE INTO offline_message (user_id, message_id, created_at) VALUES ${placeholders(rows.length, 3)}`,
        values,
      );
      return res.affectedRows;
    },
    async pull(userId, lastMessageId, limit) {
      if (lastMessageId !== null) {
        await pool.query('DELETE FROM offline_message WHERE user_id = ? AND message_id <= ?', [userId, lastMessageId]);
      }
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT o.message_id, h.seq, h.sender_id, u.name AS sender_name, h.group_id, g.name AS group_name,
                h.content, h.message_type, h.created_at
           FROM offline_message o
           JOIN message_history h ON h.message_id = o.message_id
           LEFT JOIN \`user\` u ON u.id = h.sender_id
           LEFT JOIN im_group g ON g.id = h.group_id
          WHERE o.user_id = ?
          ORDER BY o.message_id
          LIMIT ?`,
        [userId, limit + 1],
      );
      const hasMore = rows.length > limit;
      const messages = rows.slice(0, limit).map((r) => ({
        id: String(r.message_id),
        message_id: String(r.message_id),
        seq: Number(r.seq),
        sender_id: String(r.sender_id),
        sender_name: r.sender_name === null ? null : String(r.sender_name),
        group_id: r.group_id === null ? null : String(r.group_id),
        group_name: r.group_name === null ? null : String(r.group_name),
        content: String(r.content),
        message_type: r.message_type as MessageType,
        created_at: Number(r.created_at),
      }));
      return { messages, hasMore };
    },
    async countForUser(userId) {
      const [rows] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message WHERE user_id = ?', [userId]);
      return Number(rows[0]?.n ?? 0);
    },
  };
}
