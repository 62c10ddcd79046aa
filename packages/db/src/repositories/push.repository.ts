import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { PushDevice, PushPlatform } from '@im/contracts';

/** A device's push registration. */
export interface PushToken extends PushDevice {
  platform: PushPlatform;
  token: string;
}

/** Push tokens per device (push_token) and muted conversations per user (conversation_mute). */
export interface PushRepository {
  /** Registers a device's token, replacing the one it had. */
  setToken(t: PushToken, now: number): Promise<void>;
  /** Removes a device's token; with `only`, only while it is still that token. True when a row went. */
  removeToken(d: PushDevice, only?: string): Promise<boolean>;
  /** The tokens of the given devices (one query). */
  tokens(devices: readonly PushDevice[]): Promise<PushToken[]>;
  mute(userId: string, conversation: string, now: number): Promise<void>;
  unmute(userId: string, conversation: string): Promise<boolean>;
  /** The `user_id/conversation` pairs among the given ones that are muted (one query). */
  muted(pairs: readonly { user_id: string; conversation: string }[]): Promise<Set<string>>;
}

export const muteKey = (userId: string, conversation: string) => `${userId}/${conversation}`;

export function pushRepository(pool: Pool): PushRepository {
  return {
    async setToken(t, now) {
      await pool.execute(
        'INSERT INTO push_token (user_id, device_id, platform, token, updated_at) VALUES (?, ?, ?, ?, ?) ' +
          'ON DUPLICATE KEY UPDATE platform = VALUES(platform), token = VALUES(token), updated_at = VALUES(updated_at)',
        [t.user_id, t.device_id, t.platform, t.token, now],
      );
    },
    async removeToken(d, only) {
      const [res] =
        only === undefined
          ? await pool.execute<ResultSetHeader>('DELETE FROM push_token WHERE user_id = ? AND device_id = ?', [d.user_id, d.device_id])
          : await pool.execute<ResultSetHeader>('DELETE FROM push_token WHERE user_id = ? AND device_id = ? AND token = ?', [d.user_id, d.device_id, only]);
      return res.affectedRows > 0;
    },
    async tokens(devices) {
      if (devices.length === 0) return [];
      const [rows] = await pool.query<RowDataPacket[]>('SELECT user_id, device_id, platform, token FROM push_token WHERE (user_id, device_id) IN (?)', [
        devices.map((d) => [d.user_id, d.device_id]),
      ]);
      return rows.map((r) => ({ user_id: String(r.user_id), device_id: String(r.device_id), platform: r.platform as PushPlatform, token: String(r.token) }));
    },
    async mute(userId, conversation, now) {
      await pool.execute('INSERT IGNORE INTO conversation_mute (user_id, conversation, created_at) VALUES (?, ?, ?)', [userId, conversation, now]);
    },
    async unmute(userId, conversation) {
      const [res] = await pool.execute<ResultSetHeader>('DELETE FROM conversation_mute WHERE user_id = ? AND conversation = ?', [userId, conversation]);
      return res.affectedRows > 0;
    },
    async muted(pairs) {
      if (pairs.length === 0) return new Set();
      const [rows] = await pool.query<RowDataPacket[]>('SELECT user_id, conversation FROM conversation_mute WHERE (user_id, conversation) IN (?)', [
        pairs.map((p) => [p.user_id, p.conversation]),
      ]);
      return new Set(rows.map((r) => muteKey(String(r.user_id), String(r.conversation))));
    },
  };
}
