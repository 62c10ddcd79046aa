import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { OmitAccepted } from '@im/contracts';
import type { MessageRef } from './messages.repository';

/** A recalled message: what its recall event names, and when it was first recalled. */
export type Recall = OmitAccepted<'client_msg_id' | 'content' | 'message_type' | 'created_at'> & { conversation: string; recalled_at: number };

/**
 * Recalls, durable in MySQL (message_recall): written before anything of the message is deleted,
 * so a recall that failed half-way can be redone, and a persist round retried later leaves the
 * message out instead of inserting it again.
 */
export interface RecallsRepository {
  /** Records a recall (the first one wins: a repeat keeps its time); returns the recall as stored. */
  record(message: MessageRef, at: number): Promise<Recall>;
  /** The recalls of the given messages. */
  find(messageIds: readonly string[]): Promise<Recall[]>;
  /** The ids among messageIds that were recalled (one primary-key lookup). */
  among(messageIds: readonly string[]): Promise<Set<string>>;
}

function toRecall(r: RowDataPacket): Recall {
  const fields = {
    message_id: String(r.message_id),
    conversation: String(r.conversation),
    seq: Number(r.seq),
    sender_id: String(r.sender_id),
    recalled_at: Number(r.recalled_at),
  };
  return r.group_id === null ? { ...fields, receiver_id: String(r.receiver_id), group_id: null } : { ...fields, receiver_id: null, group_id: String(r.group_id) };
}

export function recallsRepository(pool: Pool): RecallsRepository {
  async function find(messageIds: readonly string[]): Promise<Recall[]> {
    if (messageIds.length === 0) return [];
    const [rows] = await pool.query<RowDataPacket[]>(
      'SELECT message_id, conversation, seq, sender_id, receiver_id, group_id, recalled_at FROM message_recall WHERE message_id IN (?)',
      [messageIds],
    );
    return rows.map(toRecall);
  }
  return {
    async record(m, at) {
      const [res] = await pool.query<ResultSetHeader>(
        'INSERT IGNORE INTO message_recall (message_id, conversation, seq, sender_id, receiver_id, group_id, recalled_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [m.message_id, m.conversation, m.seq, m.sender_id, m.receiver_id, m.group_id, at],
      );
      if (res.affectedRows === 1) {
        const fields = { message_id: m.message_id, conversation: m.conversation, seq: m.seq, sender_id: m.sender_id, recalled_at: at };
        return m.group_id === null ? { ...fields, receiver_id: m.receiver_id!, group_id: null } : { ...fields, receiver_id: null, group_id: m.group_id };
      }
      const [first] = await find([m.message_id]);
      if (!first) throw new Error(`recall of message ${m.message_id} was neither recorded nor found`);
      return first;
    },
    find,
    async among(messageIds) {
      if (messageIds.length === 0) return new Set();
      const [rows] = await pool.query<RowDataPacket[]>('SELECT message_id FROM message_recall WHERE message_id IN (?)', [messageIds]);
      return new Set(rows.map((r) => String(r.message_id)));
    },
  };
}
