import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { MessageType } from '@im/contracts';
import { placeholders } from '../pool';

/**
 * A row of a device's sync: a message (message_id is the message), or an event with an id of its
 * own (`read`: the user read `conversation` up to `seq` on `origin_device`; `recall`:
 * `ref_message_id` was recalled). device_id defaults to the `default` device.
 */
export interface OfflineRow {
  user_id: string;
  device_id?: string;
  message_id: string;
  kind?: 'message' | 'read' | 'recall';
  conversation?: string;
  seq?: number;
  ref_message_id?: string;
  origin_device?: string | null;
}

/** One item of a device's sync page (docs/contract.md, "Sync"). */
export type SyncItem =
  | ({ kind: 'message'; origin_device_id: string | null } & OfflineMessage)
  | { kind: 'read'; id: string; conversation: string; seq: number; origin_device_id: string | null; created_at: number }
  | { kind: 'recall'; id: string; message_id: string; conversation: string | null; created_at: number };

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
   * Acknowledge-by-cursor sync of one device: deletes the device's rows whose latest page ended
   * at `cursor` (when given), then returns the first `limit` rows in ascending id, marks them with
   * this page's last id, and says whether more remain. A cursor acknowledges exactly the page that
   * ended with it: an id that ended no page deletes nothing, a row no pull returned is never
   * deleted by a cursor, and a repeated pull with the same cursor returns the same page.
   */
  sync(userId: string, deviceId: string, cursor: string | null, limit: number, now: number): Promise<{ items: SyncItem[]; hasMore: boolean }>;
  /** The single-device pull: the `default` device's sync, its messages in the contract's OfflineMessage shape. */
  pull(userId: string, lastMessageId: string | null, limit: number, now: number): Promise<{ messages: OfflineMessage[]; hasMore: boolean }>;
  /**
   * A recall event in the sync of every registered device of the conversation's users (the two of
   * a single chat, or the group's members) but `default` devices (their sync carries messages
   * only). The event's row takes the recalled message's id (its place in the order), so a repeated
   * recall stores nothing twice; call it after the message's own rows were deleted. One INSERT ...
   * SELECT; returns rows stored.
   */
  insertRecallEvents(messageId: string, conversation: string, to: { users: readonly string[] } | { group: string }, now: number): Promise<number>;
  /** Deletes up to `limit` rows stored before `before` (ms); returns how many. */
  deleteExpired(before: number, limit: number): Promise<number>;
  /**
   * Up to `limit` devices holding more than `cap` rows, in (user_id, device_id) order, after
   * `after` when given (a range scan of the primary key from there; run by the cleaner only).
   * Walking with the last pair of each page visits every device once, however fast rows arrive.
   */
  devicesOverCap(cap: number, limit: number, after?: DeviceRef): Promise<DeviceRef[]>;
  /** Deletes up to `limit` of the device's oldest rows beyond the newest `keep`; returns how many. */
  trimDevice(device: DeviceRef, keep: number, limit: number): Promise<number>;
  /** InnoDB's row estimate: cheap, approximate, for the gauge. */
  estimateRows(): Promise<number>;
}

export interface DeviceRef {
  user_id: string;
  device_id: string;
}

function toItem(r: RowDataPacket): SyncItem {
  const id = String(r.message_id);
  if (r.kind === 'read') {
    return { kind: 'read', id, conversation: String(r.conversation), seq: Number(r.seq), origin_device_id: r.origin_device === null ? null : String(r.origin_device), created_at: Number(r.row_created_at) };
  }
  if (r.kind === 'recall') {
    return { kind: 'recall', id, message_id: String(r.ref_message_id), conversation: r.conversation === null ? null : String(r.conversation), created_at: Number(r.row_created_at) };
  }
  return {
    kind: 'message',
    id,
    message_id: id,
    seq: Number(r.seq_h),
    sender_id: String(r.sender_id),
    sender_name: r.sender_name === null ? null : String(r.sender_name),
    group_id: r.group_id === null ? null : String(r.group_id),
    group_name: r.group_name === null ? null : String(r.group_name),
    content: String(r.content),
    message_type: r.message_type as MessageType,
    created_at: Number(r.created_at),
    origin_device_id: r.origin_device === null ? null : String(r.origin_device),
  };
}

export function offlineRepository(pool: Pool): OfflineRepository {
  const repo: OfflineRepository = {
    async insertMany(rows, now) {
      if (rows.length === 0) return 0;
      const values: unknown[] = [];
      for (const r of rows) {
        values.push(r.user_id, r.device_id ?? 'default', r.message_id, r.kind ?? 'message', r.conversation ?? null, r.seq ?? null, r.ref_message_id ?? null, r.origin_device ?? null, now);
      }
      const [res] = await pool.query<ResultSetHeader>(
        `INSERT IGNORE INTO offline_message (user_id, device_id, message_id, kind, conversation, seq, ref_message_id, origin_device, created_at)
         VALUES ${placeholders(rows.length, 9)}`,
        values,
      );
      return res.affectedRows;
    },
    async sync(userId, deviceId, cursor, limit, now) {
      if (cursor !== null) {
        // Rows of a page all lie at or below its last id: the primary key's range, then the mark.
        await pool.query('DELETE FROM offline_message WHERE user_id = ? AND device_id = ? AND message_id <= ? AND page_end = ?', [userId, deviceId, cursor, cursor]);
      }
      // A message row whose history row is gone (recalled since) is left out of the page; the
      // recall's event, or the recall's own delete, stands for it.
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT o.message_id, o.kind, o.conversation, o.seq, o.ref_message_id, o.origin_device, o.created_at AS row_created_at,
                h.seq AS seq_h, h.sender_id, u.name AS sender_name, h.group_id, g.name AS group_name,
                h.content, h.message_type, h.created_at
           FROM offline_message o
           LEFT JOIN message_history h ON o.kind = 'message' AND h.message_id = o.message_id
           LEFT JOIN \`user\` u ON u.id = h.sender_id
           LEFT JOIN im_group g ON g.id = h.group_id
          WHERE o.user_id = ? AND o.device_id = ? AND (o.kind <> 'message' OR h.message_id IS NOT NULL)
          ORDER BY o.message_id
          LIMIT ?`,
        [userId, deviceId, limit + 1],
      );
      const hasMore = rows.length > limit;
      const page = rows.slice(0, limit);
      // Marked before the answer leaves, by id (not by range: a late row of an id inside the page,
      // stored meanwhile, was not returned): from now on this page's last id acknowledges them.
      if (page.length > 0) {
        await pool.query('UPDATE offline_message SET page_end = ?, pulled_at = ? WHERE user_id = ? AND device_id = ? AND message_id IN (?)', [
          page.at(-1)!.message_id,
          now,
          userId,
          deviceId,
          page.map((r) => r.message_id),
        ]);
      }
      return { items: page.map(toItem), hasMore };
    },
    async pull(userId, lastMessageId, limit, now) {
      const page = await repo.sync(userId, 'default', lastMessageId, limit, now);
      const messages: OfflineMessage[] = [];
      for (const item of page.items) {
        if (item.kind !== 'message') continue;
        const { kind: _kind, origin_device_id: _origin, ...message } = item;
        messages.push(message);
      }
      return { messages, hasMore: page.hasMore };
    },
    async insertRecallEvents(messageId, conversation, to, now) {
      const [res] =
        'group' in to
          ? await pool.query<ResultSetHeader>(
              `INSERT IGNORE INTO offline_message (user_id, device_id, message_id, kind, conversation, ref_message_id, created_at)
               SELECT d.user_id, d.device_id, ?, 'recall', ?, ?, ? FROM group_member m JOIN user_device d ON d.user_id = m.user_id
                WHERE m.group_id = ? AND d.device_id <> 'default'`,
              [messageId, conversation, messageId, now, to.group],
            )
          : await pool.query<ResultSetHeader>(
              `INSERT IGNORE INTO offline_message (user_id, device_id, message_id, kind, conversation, ref_message_id, created_at)
               SELECT user_id, device_id, ?, 'recall', ?, ?, ? FROM user_device WHERE user_id IN (?) AND device_id <> 'default'`,
              [messageId, conversation, messageId, now, [...new Set(to.users)]],
            );
      return res.affectedRows;
    },
    async deleteExpired(before, limit) {
      const [res] = await pool.query<ResultSetHeader>('DELETE FROM offline_message WHERE created_at < ? LIMIT ?', [before, limit]);
      return res.affectedRows;
    },
    async devicesOverCap(cap, limit, after) {
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT user_id, device_id FROM offline_message ${after === undefined ? '' : 'WHERE (user_id, device_id) > (?, ?)'}
          GROUP BY user_id, device_id HAVING COUNT(*) > ? ORDER BY user_id, device_id LIMIT ?`,
        [...(after === undefined ? [] : [after.user_id, after.device_id]), cap, limit],
      );
      return rows.map((r) => ({ user_id: String(r.user_id), device_id: String(r.device_id) }));
    },
    async trimDevice({ user_id, device_id }, keep, limit) {
      const [edge] = await pool.query<RowDataPacket[]>(
        'SELECT message_id FROM offline_message WHERE user_id = ? AND device_id = ? ORDER BY message_id DESC LIMIT 1 OFFSET ?',
        [user_id, device_id, keep - 1],
      );
      if (!edge[0]) return 0;
      const [res] = await pool.query<ResultSetHeader>(
        'DELETE FROM offline_message WHERE user_id = ? AND device_id = ? AND message_id < ? ORDER BY message_id LIMIT ?',
        [user_id, device_id, edge[0].message_id, limit],
      );
      return res.affectedRows;
    },
    async estimateRows() {
      const [rows] = await pool.query<RowDataPacket[]>(
        "SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'offline_message'",
      );
      return Number(rows[0]?.n ?? 0);
    },
  };
  return repo;
}
