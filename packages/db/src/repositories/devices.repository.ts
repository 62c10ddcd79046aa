import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Platform } from '@im/contracts';
import { placeholders } from '../pool';


export interface Device {
  device_id: string;
  platform: Platform;
  created_at: number;
  last_seen_at: number;
}

export type Registration = { outcome: 'new' | 'seen'; device: Device } | { outcome: 'limit'; devices: number };

/** Where a new device starts: the newest messages of its user's conversations within a window. */
export interface SeedWindow {
  sinceMs: number;
  maxMessages: number;
}

export interface DevicesRepository {
  /**
   * Registers the device, or refreshes its platform and last_seen_at. A new device beyond
   * `maxPerUser` is refused ('limit'); a new device's sync is seeded with the newest messages of
   * the user's conversations within `seed` (in the same transaction, so a message delivered
   * before the device was registered is in its sync, and one delivered after finds it registered).
   */
  register(userId: string, deviceId: string, platform: Platform | undefined, now: number, maxPerUser: number, seed: SeedWindow): Promise<Registration>;
  list(userId: string): Promise<Device[]>;
  /** The registered devices of each user (users with none are absent). One query. */
  ofUsers(userIds: readonly string[]): Promise<Map<string, string[]>>;
  /** Forgets a device and its sync; resolves to whether it existed. */
  remove(userId: string, deviceId: string): Promise<boolean>;
  /** Up to `limit` devices not seen since `before` (ms), oldest first. */
  inactive(before: number, limit: number): Promise<{ user_id: string; device_id: string }[]>;
  /** Registered devices in total (the gauge). */
  count(): Promise<number>;
}

const DEVICE_COLUMNS = 'device_id, platform, created_at, last_seen_at';
const toDevice = (r: RowDataPacket): Device => ({
  device_id: String(r.device_id),
  platform: String(r.platform) as Platform,
  created_at: Number(r.created_at),
  last_seen_at: Number(r.last_seen_at),
});

/**
 * The messages a new device starts from: the user's single chats (user_conversation) and groups
 * (messages since the user joined), newest first within the window, recalled ones left out.
 */
async function seed(conn: PoolConnection, userId: string, deviceId: string, window: SeedWindow, now: number): Promise<number> {
  const [res] = await conn.query<ResultSetHeader>(
    `INSERT IGNORE INTO offline_message (user_id, device_id, message_id, created_at)
     SELECT ?, ?, s.message_id, ? FROM (
       SELECT message_id FROM (
         SELECT h.message_id FROM user_conversation c
           JOIN message_history h ON h.conversation = c.conversation AND h.created_at >= ?
          WHERE c.user_id = ?
         UNION ALL
         SELECT h.message_id FROM group_member m
           JOIN message_history h ON h.conversation = CONCAT('g:', m.group_id) AND h.created_at >= GREATEST(?, m.joined_at)
          WHERE m.user_id = ?
       ) u
       WHERE u.message_id NOT IN (SELECT message_id FROM message_recall)
       ORDER BY u.message_id DESC LIMIT ?
     ) s`,
    [userId, deviceId, now, window.sinceMs, userId, window.sinceMs, userId, window.maxMessages],
  );
  return res.affectedRows;
}

export function devicesRepository(pool: Pool): DevicesRepository {
  return {
    async register(userId, deviceId, platform, now, maxPerUser, window) {
      const conn = await pool.getConnection();
      try {
        await conn.beginTransaction();
        // The user's devices, locked: two registrations at once count each other.
        const [rows] = await conn.query<RowDataPacket[]>(`SELECT ${DEVICE_COLUMNS} FROM user_device WHERE user_id = ? FOR UPDATE`, [userId]);
        const known = rows.map(toDevice).find((d) => d.device_id === deviceId);
        if (known) {
          const next = { ...known, platform: platform ?? known.platform, last_seen_at: now };
          await conn.query('UPDATE user_device SET platform = ?, last_seen_at = ? WHERE user_id = ? AND device_id = ?', [next.platform, now, userId, deviceId]);
          await conn.commit();
          return { outcome: 'seen', device: next };
        }
        if (rows.length >= maxPerUser) {
          await conn.rollback();
          return { outcome: 'limit', devices: rows.length };
        }
        const device: Device = { device_id: deviceId, platform: platform ?? 'unknown', created_at: now, last_seen_at: now };
        await conn.query('INSERT INTO user_device (user_id, device_id, platform, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)', [
          userId,
          deviceId,
          device.platform,
          now,
          now,
        ]);
        await seed(conn, userId, deviceId, window, now);
        await conn.commit();
        return { outcome: 'new', device };
      } catch (err) {
        await conn.rollback().catch(() => {});
        throw err;
      } finally {
        conn.release();
      }
    },
    async list(userId) {
      const [rows] = await pool.query<RowDataPacket[]>(`SELECT ${DEVICE_COLUMNS} FROM user_device WHERE user_id = ? ORDER BY device_id`, [userId]);
      return rows.map(toDevice);
    },
    async ofUsers(userIds) {
      const out = new Map<string, string[]>();
      if (userIds.length === 0) return out;
      const [rows] = await pool.query<RowDataPacket[]>(`SELECT user_id, device_id FROM user_device WHERE user_id IN (${placeholders(userIds.length, 1)})`, [...userIds]);
      for (const r of rows) {
        const user = String(r.user_id);
        const list = out.get(user);
        if (list) list.push(String(r.device_id));
        else out.set(user, [String(r.device_id)]);
      }
      return out;
    },
    async remove(userId, deviceId) {
      const conn = await pool.getConnection();
      try {
        await conn.beginTransaction();
        const [res] = await conn.query<ResultSetHeader>('DELETE FROM user_device WHERE user_id = ? AND device_id = ?', [userId, deviceId]);
        await conn.query('DELETE FROM offline_message WHERE user_id = ? AND device_id = ?', [userId, deviceId]);
        await conn.commit();
        return res.affectedRows > 0;
      } catch (err) {
        await conn.rollback().catch(() => {});
        throw err;
      } finally {
        conn.release();
      }
    },
    async inactive(before, limit) {
      const [rows] = await pool.query<RowDataPacket[]>('SELECT user_id, device_id FROM user_device WHERE last_seen_at < ? ORDER BY last_seen_at LIMIT ?', [before, limit]);
      return rows.map((r) => ({ user_id: String(r.user_id), device_id: String(r.device_id) }));
    },
    async count() {
      const [rows] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM user_device');
      return Number(rows[0]?.n ?? 0);
    },
  };
}
