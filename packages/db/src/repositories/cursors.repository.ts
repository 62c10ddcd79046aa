import type { Pool, ResultSetHeader } from 'mysql2/promise';

export type CursorField = 'delivered' | 'read';

export interface CursorMove {
  user_id: string;
  conversation: string;
  seq: number;
}

export interface CursorsRepository {
  /**
   * Moves each (user, conversation) cursor forward to seq, never back. Reading implies delivery,
   * so a read move also moves the delivered cursor. Updates that move nothing write nothing.
   * Returns how many cursors moved.
   */
  advance(field: CursorField, moves: readonly CursorMove[], now: number): Promise<number>;
}

export function cursorsRepository(pool: Pool): CursorsRepository {
  return {
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
