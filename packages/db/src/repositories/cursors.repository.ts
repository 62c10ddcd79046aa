import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';

export type CursorField = 'delivered' | 'read';

export interface CursorMove {
  user_id: string;
  conversation: string;
  seq: number;
}

export interface Cursor {
  delivered_seq: number;
  read_seq: number;
}

export interface CursorsRepository {
  /** Cursors of (user, conversation) pairs, keyed `${user_id}/${conversation}`; missing pairs are at 0. */
  get(pairs: readonly { user_id: string; conversation: string }[]): Promise<Map<string, Cursor>>;
  /**
   * Moves each (user, conversation) cursor forward to seq, never back. Reading implies delivery,
   * so a read move also moves the delivered cursor. Updates that move nothing write nothing.
   * Returns how many cursors moved.
   */
  advance(field: CursorField, moves: readonly CursorMove[], now: number): Promise<number>;
}

export function cursorsRepository(pool: Pool): CursorsRepository {
  return {
    async get(pairs) {
      const out = new Map<string, Cursor>();
      if (pairs.length === 0) return out;
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT user_id, conversation, delivered_seq, read_seq FROM conversation_cursor WHERE (user_id, conversation) IN (${pairs.map(() => '(?, ?)').join(', ')})`,
        pairs.flatMap((p) => [p.user_id, p.conversation]),
      );
      for (const r of rows) out.set(`${r.user_id}/${r.conversation}`, { delivered_seq: Number(r.delivered_seq), read_seq: Number(r.read_seq) });
      return out;
    },
    async advance(field, moves, now) {
      let moved = 0;
      for (const m of moves) {
        const sql =
          field === 'read'
            ? `INSERT INTO conversation_cursor (user_id, conversation, delivered_seq, read_seq, updated_at) VALUES (?, ?, ?, ?, ?)
               ON DUPLICATE KEY UPDATE
                 updated_at = IF(VALUES(read_seq) > read_seq OR VALUES(delivered_seq) > delivered_seq, VALUES(updated_at), updated_at),
                 delivered_seq = GREATEST(delivered_seq, VALUES(delivered_seq)),
                 read_seq = GREATEST(read_seq, VALUES(read_seq))`
            : `INSERT INTO conversation_cursor (user_id, conversation, delivered_seq, read_seq, updated_at) VALUES (?, ?, ?, 0, ?)
               ON DUPLICATE KEY UPDATE
                 updated_at = IF(VALUES(delivered_seq) > delivered_seq, VALUES(updated_at), updated_at),
                 delivered_seq = GREATEST(delivered_seq, VALUES(delivered_seq))`;
        const params = field === 'read' ? [m.user_id, m.conversation, m.seq, m.seq, now] : [m.user_id, m.conversation, m.seq, now];
        const [res] = await pool.execute<ResultSetHeader>(sql, params);
        if (res.affectedRows > 0) moved++;
      }
      return moved;
    },
  };
}
