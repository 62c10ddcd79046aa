import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { pairKey, type MessageType, type StoredMessage } from '@im/contracts';
import { placeholders } from '../pool';

/** The conversation key stored with each message: 's:{low}:{high}' or 'g:{group_id}'. */
export function conversationOf(m: { sender_id: string; receiver_id: string | null; group_id: string | null }): string {
  if (m.group_id !== null) return `g:${m.group_id}`;
  if (m.receiver_id === null) throw new Error('a message needs a receiver_id or a group_id');
  return `s:${pairKey(m.sender_id, m.receiver_id)}`;
}

export interface MessageRef {
  message_id: string;
  conversation: string;
  seq: number;
  sender_id: string;
  receiver_id: string | null;
  group_id: string | null;
}

export interface MessagesRepository {
  /** Inserts many messages in one statement; rows already there are left alone. Returns rows inserted. */
  insertMany(messages: readonly StoredMessage[]): Promise<number>;
  maxSeq(conversation: string): Promise<number>;
  findRefs(messageIds: readonly string[]): Promise<MessageRef[]>;
  countByIds(messageIds: readonly string[]): Promise<number>;
}

const COLUMNS = 'message_id, conversation, seq, sender_id, receiver_id, group_id, message_type, content, client_msg_id, created_at';

export function messagesRepository(pool: Pool): MessagesRepository {
  return {
    async insertMany(messages) {
      if (messages.length === 0) return 0;
      const values: unknown[] = [];
      for (const m of messages) {
        values.push(m.message_id, conversationOf(m), m.seq, m.sender_id, m.receiver_id, m.group_id, m.message_type, m.content, m.client_msg_id, m.created_at);
      }
      const [res] = await pool.query<ResultSetHeader>(
        `INSERT IGNORE INTO message_history (${COLUMNS}) VALUES ${placeholders(messages.length, 10)}`,
        values,
      );
      return res.affectedRows;
    },
    async maxSeq(conversation) {
      const [rows] = await pool.query<RowDataPacket[]>(
        'SELECT COALESCE(MAX(seq), 0) AS seq FROM message_history WHERE conversation = ?',
        [conversation],
      );
      return Number(rows[0]?.seq ?? 0);
    },
    async findRefs(messageIds) {
      if (messageIds.length === 0) return [];
      const [rows] = await pool.query<RowDataPacket[]>(
        'SELECT message_id, conversation, seq, sender_id, receiver_id, group_id FROM message_history WHERE message_id IN (?)',
        [messageIds],
      );
      return rows.map((r) => ({
        message_id: String(r.message_id),
        conversation: String(r.conversation),
        seq: Number(r.seq),
        sender_id: String(r.sender_id),
        receiver_id: r.receiver_id === null ? null : String(r.receiver_id),
        group_id: r.group_id === null ? null : String(r.group_id),
      }));
    },
    async countByIds(messageIds) {
      if (messageIds.length === 0) return 0;
      const [rows] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE message_id IN (?)', [messageIds]);
      return Number(rows[0]?.n ?? 0);
    },
  };
}

export type { MessageType };
