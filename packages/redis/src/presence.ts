import type { Redis } from 'ioredis';
import { keys } from './keys';

export interface Presence {
  set(userId: string, gatewayId: string, ttlS: number): Promise<void>;
  clear(userId: string): Promise<void>;
  /** The gateway of each online user among userIds (one MGET). */
  lookup(userIds: readonly string[]): Promise<Map<string, string>>;
}

export function presence(redis: Redis): Presence {
  return {
    async set(userId, gatewayId, ttlS) {
      await redis.set(keys.presence(userId), gatewayId, 'EX', ttlS);
    },
    async clear(userId) {
      await redis.del(keys.presence(userId));
    },
    async lookup(userIds) {
      const online = new Map<string, string>();
      if (userIds.length === 0) return online;
      const values = await redis.mget(userIds.map(keys.presence));
      values.forEach((v, i) => {
        if (v !== null) online.set(userIds[i]!, v);
      });
      return online;
    },
  };
}
