import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';

export interface Partition {
  name: string;
  /** Upper bound (exclusive) as a decimal message id, or 'MAXVALUE'. */
  lessThan: string;
  rows: number;
}

export interface PartitionsRepository {
  /** Partitions of message_history in order; empty when the table is not partitioned. */
  list(): Promise<Partition[]>;
  /**
   * Turns a plain message_history into a RANGE (message_id) partitioned one: everything so far in
   * `first`, and an empty catch-all `p_future`. Rebuilds the table: run it before the table is big.
   */
  enable(first: { name: string; lessThan: string }): Promise<void>;
  /** Splits the empty p_future so that `next` exists ahead of time. */
  addBefore(next: { name: string; lessThan: string }): Promise<void>;
  /**
   * Drops partitions, and the seq claims (message_seq) of the messages they held, whose ids are
   * below `below` (the upper bound of the newest partition dropped), in batches of `batch` rows.
   */
  drop(names: readonly string[], below: string, batch?: number): Promise<void>;
  /** Data plus index bytes per table, from information_schema. */
  storage(): Promise<Map<string, number>>;
}

const NAME = /^p\d{6}$/;

export function partitionsRepository(pool: Pool): PartitionsRepository {
  return {
    async list() {
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT PARTITION_NAME AS name, PARTITION_DESCRIPTION AS less_than, TABLE_ROWS AS n
           FROM information_schema.PARTITIONS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'message_history' AND PARTITION_NAME IS NOT NULL
          ORDER BY PARTITION_ORDINAL_POSITION`,
      );
      return rows.map((r) => ({ name: String(r.name), lessThan: String(r.less_than), rows: Number(r.n ?? 0) }));
    },
    async enable(first) {
      if (!NAME.test(first.name) || !/^\d+$/.test(first.lessThan)) throw new Error(`bad partition ${first.name} < ${first.lessThan}`);
      await pool.query(
        `ALTER TABLE message_history PARTITION BY RANGE (message_id) (
           PARTITION ${first.name} VALUES LESS THAN (${first.lessThan}),
           PARTITION p_future VALUES LESS THAN MAXVALUE)`,
      );
    },
    async addBefore(next) {
      if (!NAME.test(next.name) || !/^\d+$/.test(next.lessThan)) throw new Error(`bad partition ${next.name} < ${next.lessThan}`);
      await pool.query(
        `ALTER TABLE message_history REORGANIZE PARTITION p_future INTO (
           PARTITION ${next.name} VALUES LESS THAN (${next.lessThan}),
           PARTITION p_future VALUES LESS THAN MAXVALUE)`,
      );
    },
    async drop(names, below, batch = 10_000) {
      if (names.length === 0) return;
      for (const n of names) if (!NAME.test(n)) throw new Error(`bad partition name ${n}`);
      await pool.query(`ALTER TABLE message_history DROP PARTITION ${names.join(', ')}`);
      for (;;) {
        const [res] = await pool.query<ResultSetHeader>('DELETE FROM message_seq WHERE message_id < ? LIMIT ?', [below, batch]);
        if (res.affectedRows < batch) break;
      }
    },
    async storage() {
      const [rows] = await pool.query<RowDataPacket[]>(
        'SELECT TABLE_NAME AS t, DATA_LENGTH + INDEX_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
      );
      return new Map(rows.map((r) => [String(r.t), Number(r.bytes ?? 0)]));
    },
  };
}
