import type { Redis } from 'ioredis';
import { keys } from './keys';

/**
 * Adds a message to a device's open window, or opens one named ARGV[4]; keeps the newest message
 * (ids compared as numbers). Returns the open window's id.
 * KEYS: open, pending, latest. ARGV: message_id, body, ttl_ms, proposed window id.
 */
const ADD_LUA = `
local mid = ARGV[1]
if redis.call('SADD', KEYS[2], mid) == 1 then
  local cur = redis.call('HGET', KEYS[3], 'id')
  if not cur or #cur < #mid or (#cur == #mid and cur < mid) then redis.call('HSET', KEYS[3], 'id', mid, 'body', ARGV[2]) end
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
local w = redis.call('GET', KEYS[1])
if w then return w end
redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[3])
return ARGV[4]`;

/**
 * Closes window ARGV[1] and sets its messages aside to be sent; a window set aside before (a
 * retried send) is returned as it was. Returns {count, newest body} or nil (nothing to send: the
 * window was sent already, or never held a message).
 * KEYS: open, pending, latest, sending, sendingLatest. ARGV: window id, ttl_ms.
 */
const TAKE_LUA = `
if redis.call('EXISTS', KEYS[4]) == 1 then return {redis.call('SCARD', KEYS[4]), redis.call('HGET', KEYS[5], 'body')} end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return nil end
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 0 or redis.call('EXISTS', KEYS[3]) == 0 then redis.call('DEL', KEYS[2], KEYS[3]) return nil end
redis.call('RENAME', KEYS[2], KEYS[4])
redis.call('RENAME', KEYS[3], KEYS[5])
redis.call('PEXPIRE', KEYS[4], ARGV[2])
redis.call('PEXPIRE', KEYS[5], ARGV[2])
return {redis.call('SCARD', KEYS[4]), redis.call('HGET', KEYS[5], 'body')}`;

export interface PushWindowDevice {
  user_id: string;
  device_id: string;
}

/** A closed window: how many messages it gathered, and the newest one as it was added. */
export interface ClosedWindow {
  count: number;
  newest: string;
}

/**
 * Collapse windows of pushes, one per device: the first message for a device opens a window, the
 * messages that follow within it join it, and the window is sent as one push with their count once
 * it closes (worker-push adds the job that closes it, delayed by the window). The state is kept a
 * day at most: a window nobody closes (its close job lost with its Redis) is forgotten.
 */
export function pushWindows(redis: Redis, queuePrefix: string, ttlMs = 86_400_000) {
  const k = (d: PushWindowDevice) => keys.pushWindow(queuePrefix, d.user_id, d.device_id);
  return {
    /** Adds a message (id, body) to the device's window; returns the id of the window it joined (`proposed` when it opened one). */
    async add(d: PushWindowDevice, messageId: string, body: string, proposed: string): Promise<string> {
      const w = k(d);
      return String(await redis.eval(ADD_LUA, 3, w.open, w.pending, w.latest, messageId, body, ttlMs, proposed));
    },
    /** Closes a window and returns what it gathered (the same again until `sent`), or null when there is nothing to send. */
    async take(d: PushWindowDevice, window: string): Promise<ClosedWindow | null> {
      const w = k(d);
      const r = (await redis.eval(TAKE_LUA, 5, w.open, w.pending, w.latest, w.sending(window), w.sendingLatest(window), window, ttlMs)) as [number, string | null] | null;
      if (!r || r[1] === null) return null;
      return { count: Number(r[0]), newest: r[1] };
    },
    /** Forgets a window once it was sent (or can never be). */
    async sent(d: PushWindowDevice, window: string): Promise<void> {
      const w = k(d);
      await redis.del(w.sending(window), w.sendingLatest(window));
    },
  };
}

export type PushWindows = ReturnType<typeof pushWindows>;
