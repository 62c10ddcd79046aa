import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { conversationOf, type AcceptedMessage, type MessageType, type OmitAccepted } from '@im/contracts';
import { placeholders } from '../pool';

/** A history row as the read side returns it (status is derived from cursors by the caller). */
/** A row of message_history: a single or a group message, with its conversation key. */
export type HistoryRow = OmitAccepted<'client_msg_id'> & { conversation: string };

/** What acks need of a message: who is in its conversation and where it stands. */
export type MessageRef = Pick<HistoryRow, 'message_id' | 'conversation' | 'seq' | 'sender_id' | 'receiver_id' | 'group_id'>;

/** What claiming the (conversation, seq) of messages found (infra/mysql/migrations/012_seq_claims.sql). */
export interface SeqClaims {
  /** Messages whose pair another message holds: each needs a new seq (a detected fault). */
  conflicts: AcceptedMessage[];
  /** Messages that already hold a pair under another seq than they carry (an earlier attempt gave them a new one): message_id -> seq. */
  moved: Map<string, number>;
}

export interface MessagesRepository {
  /** Inserts many messages in one statement; rows already there are left alone. Returns rows inserted. */
  insertMany(messages: readonly AcceptedMessage[]): Promise<number>;
  /**
   * Claims each message's (conversation, seq) in one statement. A message whose pair it already
   * holds (a retry) is fine; one whose pair another message holds is a conflict. Only when the
   * statement did not claim every pair does a second query tell the cases apart.
   */
  claimSeqs(messages: readonly AcceptedMessage[]): Promise<SeqClaims>;
  /** Claims one pair for a message; true when the message holds it afterwards. */
  claimSeq(conversation: string, seq: number, messageId: string): Promise<boolean>;
  /** The highest seq claimed in a conversation (0 when none). */
  maxClaimedSeq(conversation: string): Promise<number>;
  /** Stored messages sent with a client_msg_id, by `${sender_id}/${client_msg_id}`. */
  findSent(refs: readonly { sender_id: string; client_msg_id: string }[]): Promise<Map<string, { message_id: string; seq: number; created_at: number }>>;
  /**
   * The highest seq stored per conversation: the greater of history and conversation_state (which
   * keeps it after retention dropped the rows or every message was recalled). 0 when none.
   */
  seqFloors(conversations: readonly string[]): Promise<Map<string, number>>;
  findRefs(messageIds: readonly string[]): Promise<MessageRef[]>;
  findMany(messageIds: readonly string[]): Promise<HistoryRow[]>;
  /** One page of a conversation, newest first, below beforeSeq (index (conversation, seq)). */
  page(conversation: string, beforeSeq: number | null, limit: number): Promise<{ rows: HistoryRow[]; hasMore: boolean }>;
  /**
   * Messages of the given conversations within [start, end] whose content contains keyword
   * (Latin case-insensitive, CJK and emoji exact), newest first. Examines only rows of those
   * conversations in that time range (index (conversation, created_at)).
   */
  /**
   * Messages of these conversations whose content holds `keyword`, newest first (created_at, then
   * message_id, descending), after the keyset position `after` of a previous page when given.
   */
  search(conversations: readonly string[], keyword: string, start: number, end: number, limit: number, after?: readonly [createdAt: number, messageId: string] | null): Promise<HistoryRow[]>;
  /** Deletes a message and its pending offline rows; returns the offline rows removed. */
  remove(messageId: string): Promise<number>;
}

const HISTORY_COLUMNS = 'message_id, conversation, seq, sender_id, receiver_id, group_id, content, message_type, created_at';

function toHistoryRow(r: RowDataPacket): HistoryRow {
  const fields = {
    message_id: String(r.message_id),
    conversation: String(r.conversation),
    seq: Number(r.seq),
    sender_id: String(r.sender_id),
    content: String(r.content),
    message_type: r.message_type as MessageType,
    created_at: Number(r.created_at),
  };
  return r.group_id === null ? { ...fields, receiver_id: String(r.receiver_id), group_id: null } : { ...fields, receiver_id: null, group_id: String(r.group_id) };
}

/** Escapes LIKE wildcards so a keyword is matched literally. */
function likeLiteral(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
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
    async claimSeqs(messages) {
      const none: SeqClaims = { conflicts: [], moved: new Map() };
      if (messages.length === 0) return none;
      const values: unknown[] = [];
      for (const m of messages) values.push(conversationOf(m), m.seq, m.message_id);
      const [res] = await pool.query<ResultSetHeader>(`INSERT IGNORE INTO message_seq (conversation, seq, message_id) VALUES ${placeholders(messages.length, 3)}`, values);
      if (res.affectedRows === messages.length) return none;
      const [rows] = await pool.query<RowDataPacket[]>('SELECT seq, message_id FROM message_seq WHERE message_id IN (?)', [messages.map((m) => m.message_id)]);
      const held = new Map(rows.map((r) => [String(r.message_id), Number(r.seq)]));
      const out: SeqClaims = { conflicts: [], moved: new Map() };
      for (const m of messages) {
        const seq = held.get(m.message_id);
        if (seq === undefined) out.conflicts.push(m);
        else if (seq !== m.seq) out.moved.set(m.message_id, seq);
      }
      return out;
    },
    async claimSeq(conversation, seq, messageId) {
      await pool.query('INSERT IGNORE INTO message_seq (conversation, seq, message_id) VALUES (?, ?, ?)', [conversation, seq, messageId]);
      const [rows] = await pool.query<RowDataPacket[]>('SELECT message_id FROM message_seq WHERE conversation = ? AND seq = ?', [conversation, seq]);
      return rows.length > 0 && String(rows[0]!.message_id) === messageId;
    },
    async findSent(refs) {
      const out = new Map<string, { message_id: string; seq: number; created_at: number }>();
      if (refs.length === 0) return out;
      const [rows] = await pool.query<RowDataPacket[]>('SELECT sender_id, client_msg_id, message_id, seq, created_at FROM message_history WHERE sender_id IN (?) AND client_msg_id IN (?)', [
        [...new Set(refs.map((r) => r.sender_id))],
        [...new Set(refs.map((r) => r.client_msg_id))],
      ]);
      const wanted = new Set(refs.map((r) => `${r.sender_id}/${r.client_msg_id}`));
      for (const r of rows) {
        const key = `${r.sender_id}/${r.client_msg_id}`;
        if (wanted.has(key)) out.set(key, { message_id: String(r.message_id), seq: Number(r.seq), created_at: Number(r.created_at) });
      }
      return out;
    },
    async maxClaimedSeq(conversation) {
      const [rows] = await pool.query<RowDataPacket[]>('SELECT MAX(seq) AS seq FROM message_seq WHERE conversation = ?', [conversation]);
      return Number(rows[0]?.seq ?? 0);
    },
    async seqFloors(conversations) {
      const floors = new Map<string, number>(conversations.map((c) => [c, 0]));
      if (conversations.length === 0) return floors;
      const [history] = await pool.query<RowDataPacket[]>(
        'SELECT conversation, MAX(seq) AS seq FROM message_history WHERE conversation IN (?) GROUP BY conversation',
        [conversations],
      );
      const [states] = await pool.query<RowDataPacket[]>('SELECT conversation, max_seq AS seq FROM conversation_state WHERE conversation IN (?)', [conversations]);
      for (const r of [...history, ...states]) {
        const c = String(r.conversation);
        floors.set(c, Math.max(floors.get(c) ?? 0, Number(r.seq)));
      }
      return floors;
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
    async findMany(messageIds) {
      if (messageIds.length === 0) return [];
      const [rows] = await pool.query<RowDataPacket[]>(`SELECT ${HISTORY_COLUMNS} FROM message_history WHERE message_id IN (?)`, [messageIds]);
      return rows.map(toHistoryRow);
    },
    async page(conversation, beforeSeq, limit) {
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT ${HISTORY_COLUMNS} FROM message_history WHERE conversation = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
        [conversation, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit + 1],
      );
      return { rows: rows.slice(0, limit).map(toHistoryRow), hasMore: rows.length > limit };
    },
    async search(conversations, keyword, start, end, limit, after) {
      if (conversations.length === 0) return [];
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT ${HISTORY_COLUMNS} FROM message_history
          WHERE conversation IN (?) AND created_at BETWEEN ? AND ?
            AND LOWER(content) COLLATE utf8mb4_bin LIKE CONCAT('%', LOWER(?), '%') COLLATE utf8mb4_bin
            ${after ? 'AND (created_at < ? OR (created_at = ? AND message_id < ?))' : ''}
          ORDER BY created_at DESC, message_id DESC LIMIT ?`,
        [conversations, start, end, likeLiteral(keyword), ...(after ? [after[0], after[0], after[1]] : []), limit],
      );
      return rows.map(toHistoryRow);
    },
    async remove(messageId) {
      const [offline] = await pool.query<ResultSetHeader>('DELETE FROM offline_message WHERE message_id = ?', [messageId]);
      await pool.query('DELETE FROM message_history WHERE message_id = ?', [messageId]);
      return offline.affectedRows;
    },
  };
}

