import type { Redis } from 'ioredis';
import { keys } from './keys';

/** Takes up to ARGV[2] members due by ARGV[1] and pushes their deadline ARGV[3] ms out (a lease). */
const CLAIM_LUA = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), m) end
return due`;

export interface Unacked {
  user_id: string;
  /** The device the publish was for; members of earlier releases name none: the `default` device. */
  device_id: string;
  message_id: string;
}

/**
 * Online publishes waiting for their `delivered` ack, in one sorted set scored by deadline.
 * Delivery records each publish; an ack removes it; what is still there after ack_timeout_s is
 * claimed (with a lease, so a claimer that dies hands it back) and stored offline.
 */
export function unackedTracker(redis: Redis, ackTimeoutS: number, queuePrefix: string) {
  const key = keys.unacked(queuePrefix);
  const member = (u: Unacked) => `${u.user_id}|${u.device_id}|${u.message_id}`;
  return {
    async track(items: readonly Unacked[], now: number): Promise<void> {
      if (items.length === 0) return;
      const deadline = now + ackTimeoutS * 1000;
      const args: (string | number)[] = [];
      for (const i of items) args.push(deadline, member(i));
      await redis.zadd(key, ...args);
    },
    /** An ack of the device; the `default` device's also clears members of the single-device format. */
    async acked(userId: string, deviceId: string, messageIds: readonly string[]): Promise<void> {
      if (messageIds.length === 0) return;
      const members = messageIds.map((id) => `${userId}|${deviceId}|${id}`);
      if (deviceId === 'default') members.push(...messageIds.map((id) => `${userId}|${id}`));
      await redis.zrem(key, ...members);
    },
    async claimDue(now: number, limit: number, leaseMs = 60_000): Promise<Unacked[]> {
      const due = (await redis.eval(CLAIM_LUA, 1, key, now, limit, leaseMs)) as string[];
      return due.map((m) => {
        const parts = m.split('|');
        return parts.length === 2 ? { user_id: parts[0]!, device_id: 'default', message_id: parts[1]! } : { user_id: parts[0]!, device_id: parts[1]!, message_id: parts[2]! };
      });
    },
    async done(items: readonly Unacked[]): Promise<void> {
      if (items.length === 0) return;
      // The `default` device's entries may be of the single-device format (a publish of an earlier release).
      await redis.zrem(key, ...items.flatMap((i) => (i.device_id === 'default' ? [member(i), `${i.user_id}|${i.message_id}`] : [member(i)])));
    },
  };
}

export type UnackedTracker = ReturnType<typeof unackedTracker>;
