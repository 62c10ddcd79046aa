import type { Pool, RowDataPacket } from 'mysql2/promise';
import { conversationOf, type AcceptedMessage } from '@im/contracts';
import { placeholders } from '../pool';

export interface ConversationState {
  conversation: string;
  last_message_id: string;
  max_seq: number;
  best_delivered_seq: number;
  best_read_seq: number;
  updated_at: number;
}

export interface ConversationEntry {
  conversation: string;
  peer_id: string | null;
  group_id: string | null;
  updated_at: number;
}

export interface ConversationsRepository {
  /** Records persisted messages: last message and max seq per conversation, and both parties' single-chat lists. */
  record(messages: readonly AcceptedMessage[]): Promise<void>;
  /**
   * The user's most recent conversations (single chats and groups), newest first (ties by
   * conversation key, descending), after the keyset position `after` of a previous page when given.
   */
  recent(userId: string, limit: number, after?: readonly [updatedAt: number, conversation: string] | null): Promise<ConversationEntry[]>;
  states(conversations: readonly string[]): Promise<Map<string, ConversationState>>;
  /** Every conversation the user is in: single chats that carried a message, and the user's groups. */
  allOf(userId: string): Promise<string[]>;
  /** Moves the best delivered/read seq of conversations forward. */
  advanceBest(field: 'delivered' | 'read', moves: readonly { conversation: string; seq: number }[]): Promise<void>;
  /**
   * After a recall: points last_message_id at the newest remaining message, or at none (0) when
   * none remains. The state row stays: its max_seq is what keeps a seq from repeating.
   */
  refreshLast(conversation: string): Promise<void>;
}

export function conversationsRepository(pool: Pool): ConversationsRepository {
  return {
    async record(messages) {
      if (messages.length === 0) return;
      const last = new Map<string, AcceptedMessage>();
      const lists = new Map<string, [string, string, string, number]>();
      for (const m of messages) {
        const conversation = conversationOf(m);
        const prior = last.get(conversation);
        if (!prior || prior.seq < m.seq) last.set(conversation, m);
        if (m.receiver_id !== null) {
          for (const [user, peer] of [[m.sender_id, m.receiver_id], [m.receiver_id, m.sender_id]] as const) {
            const key = `${user}/${conversation}`;
            const row = lists.get(key);
            if (!row || row[3] < m.created_at) lists.set(key, [user, conversation, peer, m.created_at]);
          }
        }
      }
      // Rows in key order, so that concurrent statements lock in the same order (no deadlock cycles).
      const states = [...last].sort(([a], [b]) => (a < b ? -1 : 1));
      await pool.query(
        `INSERT INTO conversation_state (conversation, last_message_id, max_seq, updated_at) VALUES ${placeholders(states.length, 4)}
         ON DUPLICATE KEY UPDATE
           last_message_id = IF(VALUES(max_seq) > max_seq, VALUES(last_message_id), last_message_id),
           updated_at = IF(VALUES(max_seq) > max_seq, VALUES(updated_at), updated_at),
           max_seq = GREATEST(max_seq, VALUES(max_seq))`,
        states.flatMap(([c, m]) => [c, m.message_id, m.seq, m.created_at]),
      );
      if (lists.size > 0) {
        // Each row's key made once, not twice per comparison (that was 7 % of worker-persist's CPU).
        const keyed = [...lists.values()].map((r) => ({ key: `${r[0].padStart(20, '0')}/${r[1]}`, r }));
        const rows = keyed.sort((a, b) => (a.key < b.key ? -1 : 1)).map((k) => k.r);
        await pool.query(
          `INSERT INTO user_conversation (user_id, conversation, peer_id, updated_at) VALUES ${placeholders(rows.length, 4)}
           ON DUPLICATE KEY UPDATE updated_at = GREATEST(updated_at, VALUES(updated_at))`,
          rows.flat(),
        );
      }
    },

    async recent(userId, limit, after) {
      // Keyset paging: rows strictly after (updated_at, conversation) in the list's order.
      const below = (t: string) => (after ? ` AND (${t}.updated_at < ? OR (${t}.updated_at = ? AND ${t}.conversation < ?))` : '');
      const at = after ? [after[0], after[0], after[1]] : [];
      const [rows] = await pool.query<RowDataPacket[]>(
        `(SELECT u.conversation, u.peer_id, NULL AS group_id, u.updated_at
            FROM user_conversation u WHERE u.user_id = ?${below('u')} ORDER BY u.updated_at DESC, u.conversation DESC LIMIT ?)
         UNION ALL
         (SELECT s.conversation, NULL AS peer_id, m.group_id, s.updated_at
            FROM group_member m JOIN conversation_state s ON s.conversation = CONCAT('g:', m.group_id)
           WHERE m.user_id = ?${below('s')})
         ORDER BY updated_at DESC, conversation DESC LIMIT ?`,
        [userId, ...at, limit, userId, ...at, limit],
      );
      return rows.map((r) => ({
        conversation: String(r.conversation),
        peer_id: r.peer_id === null ? null : String(r.peer_id),
        group_id: r.group_id === null ? null : String(r.group_id),
        updated_at: Number(r.updated_at),
      }));
    },

    async allOf(userId) {
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT conversation FROM user_conversation WHERE user_id = ?
         UNION ALL SELECT CONCAT('g:', group_id) FROM group_member WHERE user_id = ?`,
        [userId, userId],
      );
      return rows.map((r) => String(r.conversation));
    },

    async states(conversations) {
      const out = new Map<string, ConversationState>();
      if (conversations.length === 0) return out;
      const [rows] = await pool.query<RowDataPacket[]>('SELECT * FROM conversation_state WHERE conversation IN (?)', [conversations]);
      for (const r of rows) {
        out.set(String(r.conversation), {
          conversation: String(r.conversation),
          last_message_id: String(r.last_message_id),
          max_seq: Number(r.max_seq),
          best_delivered_seq: Number(r.best_delivered_seq),
          best_read_seq: Number(r.best_read_seq),
          updated_at: Number(r.updated_at),
        });
      }
      return out;
    },

    async advanceBest(field, moves) {
      for (const m of [...moves].sort((a, b) => (a.conversation < b.conversation ? -1 : 1))) {
        if (field === 'read') {
          await pool.execute(
            'UPDATE conversation_state SET best_read_seq = GREATEST(best_read_seq, ?), best_delivered_seq = GREATEST(best_delivered_seq, ?) WHERE conversation = ?',
            [m.seq, m.seq, m.conversation],
          );
        } else {
          await pool.execute('UPDATE conversation_state SET best_delivered_seq = GREATEST(best_delivered_seq, ?) WHERE conversation = ?', [m.seq, m.conversation]);
        }
      }
    },

    async refreshLast(conversation) {
      const [rows] = await pool.query<RowDataPacket[]>(
        'SELECT message_id, created_at FROM message_history WHERE conversation = ? ORDER BY seq DESC LIMIT 1',
        [conversation],
      );
      const newest = rows[0];
      // A single chat's two list rows are found by key: 's:{low}:{high}'.
      const parties = conversation.startsWith('s:') ? conversation.slice(2).split(':') : [];
      if (newest) {
        await pool.query('UPDATE conversation_state SET last_message_id = ?, updated_at = ? WHERE conversation = ?', [newest.message_id, newest.created_at, conversation]);
        for (const user of parties) {
          await pool.query('UPDATE user_conversation SET updated_at = ? WHERE user_id = ? AND conversation = ?', [newest.created_at, user, conversation]);
        }
      } else {
        await pool.query('UPDATE conversation_state SET last_message_id = 0 WHERE conversation = ?', [conversation]);
        for (const user of parties) await pool.query('DELETE FROM user_conversation WHERE user_id = ? AND conversation = ?', [user, conversation]);
      }
    },
  };
}
