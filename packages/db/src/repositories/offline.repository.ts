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
   * Acknowledge-by-cursor pull: deletes the user's rows whose latest page ended at lastMessageId
   * (when given), then returns the first `limit` rows in ascending message_id, marks them with
   * this page's last message_id, and says whether more remain. A cursor acknowledges exactly the
   * page that ended with it: an id that ended no page deletes nothing, a row no pull returned is
   * never deleted by a cursor, and a repeated pull with the same cursor returns the same page.
   */
  pull(userId: string, lastMessageId: string | null, limit: number, now: number): Promise<{ messages: OfflineMessage[]; hasMore: boolean }>;
  /** Deletes up to `limit` rows stored before `before` (ms); returns how many. */
  deleteExpired(before: number, limit: number): Promise<number>;
  /**
   * Up to `limit` users holding more than `cap` rows, in user_id order, after `afterUserId` when
   * given (a range scan of the primary key from there; run by the cleaner only). Walking with the
   * last id of each page visits every user once, however fast rows arrive meanwhile.
   */
  usersOverCap(cap: number, limit: number, afterUserId?: string): Promise<string[]>;
  /** Deletes up to `limit` of the user's oldest rows beyond the newest `keep`; returns how many. */
  trimUser(userId: string, keep: number, limit: number): Promise<number>;
  /** InnoDB's row estimate: cheap, approximate, for the gauge. */
  estimateRows(): Promise<number>;
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
    async pull(userId, lastMessageId, limit, now) {
      if (lastMessageId !== null) {
        // Rows of a page all lie at or below its last id: the primary key's range, then the mark.
        await pool.query('DELETE FROM offline_message WHERE user_id = ? AND message_id <= ? AND page_end = ?', [userId, lastMessageId, lastMessageId]);
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
      const page = rows.slice(0, limit);
      // Marked before the answer leaves, by id (not by range: a late row of an id inside the page,
      // stored meanwhile, was not returned): from now on this page's last id acknowledges them.
      if (page.length > 0) {
        await pool.query('UPDATE offline_message SET page_end = ?, pulled_at = ? WHERE user_id = ? AND message_id IN (?)', [
          page.at(-1)!.message_id,
          now,
          userId,
          page.map((r) => r.message_id),
        ]);
      }
      const messages = page.map((r) => ({
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
    async deleteExpired(before, limit) {
      const [res] = await pool.query<ResultSetHeader>('DELETE FROM offline_message WHERE created_at < ? LIMIT ?', [before, limit]);
      return res.affectedRows;
    },
    async usersOverCap(cap, limit, afterUserId) {
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT user_id FROM offline_message ${afterUserId === undefined ? '' : 'WHERE user_id > ?'}
          GROUP BY user_id HAVING COUNT(*) > ? ORDER BY user_id LIMIT ?`,
        [...(afterUserId === undefined ? [] : [afterUserId]), cap, limit],
      );
      return rows.map((r) => String(r.user_id));
    },
    async trimUser(userId, keep, limit) {
      const [edge] = await pool.query<RowDataPacket[]>(
        'SELECT message_id FROM offline_message WHERE user_id = ? ORDER BY message_id DESC LIMIT 1 OFFSET ?',
        [userId, keep - 1],
      );
      if (!edge[0]) return 0;
      const [res] = await pool.query<ResultSetHeader>('DELETE FROM offline_message WHERE user_id = ? AND message_id < ? ORDER BY message_id LIMIT ?', [
        userId,
        edge[0].message_id,
        limit,
      ]);
      return res.affectedRows;
    },
    async estimateRows() {
      const [rows] = await pool.query<RowDataPacket[]>(
        "SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'offline_message'",
      );
      return Number(rows[0]?.n ?? 0);
    },
  };
}
