import type { Redis } from 'ioredis';
import { mgetAny } from './connections';
import { keys } from './keys';

/** Deletes the presence key only while it still names the gateway asking (a late disconnect must not erase a newer connection). */
const CLEAR_IF_OWNER_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface Presence {
  set(userId: string, gatewayId: string, ttlS: number): Promise<void>;
  /**
   * Removes the user's presence; with `gatewayId`, only if the key still names that gateway (one
   * atomic compare-and-delete). Resolves to whether a key was removed.
   */
  clear(userId: string, gatewayId?: string): Promise<boolean>;
  /** The gateway of each online user among userIds (one MGET; one per slot on a cluster). */
  lookup(userIds: readonly string[]): Promise<Map<string, string>>;
}

export function presence(redis: Redis): Presence {
  return {
    async set(userId, gatewayId, ttlS) {
      await redis.set(keys.presence(userId), gatewayId, 'EX', ttlS);
    },
    async clear(userId, gatewayId) {
      const removed = gatewayId === undefined ? await redis.del(keys.presence(userId)) : await redis.eval(CLEAR_IF_OWNER_LUA, 1, keys.presence(userId), gatewayId);
      return Number(removed) === 1;
    },
    async lookup(userIds) {
      const online = new Map<string, string>();
      if (userIds.length === 0) return online;
      const values = await mgetAny(redis, userIds.map(keys.presence));
      values.forEach((v, i) => {
        if (v !== null) online.set(userIds[i]!, v);
      });
      return online;
    },
  };
}
