import type { Redis } from 'ioredis';
import { keys } from './keys';

/** A member id that no user can have (ids are positive): keeps an empty group's cached set non-empty. */
const SENTINEL = '0';
const CACHE_TTL_S = 3600;

/**
 * Group member lists cached in Redis for fan-out and the sender check, with explicit invalidation.
 * Each group has a version counter; the cached set lives under its version. A change bumps the
 * version, so a list loaded from MySQL before the change can only ever be stored under the old
 * version, which nobody reads again: no stale member keeps receiving.
 */
export function groupMembersCache(redis: Redis, load: (groupId: string) => Promise<string[]>) {
  async function currentKey(groupId: string): Promise<string> {
    const v = (await redis.get(keys.groupVersion(groupId))) ?? '0';
    return keys.groupMembers(groupId, v);
  }

  async function fill(key: string, groupId: string): Promise<string[]> {
    const members = await load(groupId);
    const pipeline = redis.multi();
    pipeline.del(key);
    for (let i = 0; i < members.length; i += 1000) pipeline.sadd(key, ...members.slice(i, i + 1000));
    pipeline.sadd(key, SENTINEL);
    pipeline.expire(key, CACHE_TTL_S);
    await pipeline.exec();
    return members;
  }

  return {
    async members(groupId: string): Promise<string[]> {
      const key = await currentKey(groupId);
      const cached = await redis.smembers(key);
      if (cached.length > 0) return cached.filter((m) => m !== SENTINEL);
      return fill(key, groupId);
    },

    async isMember(groupId: string, userId: string): Promise<boolean> {
      const key = await currentKey(groupId);
      const [[, exists], [, member]] = (await redis.multi().exists(key).sismember(key, userId).exec()) as [[null, number], [null, number]];
      if (exists === 1) return member === 1;
      return (await fill(key, groupId)).includes(userId);
    },

    /** Call before and after changing members in MySQL. */
    async invalidate(groupId: string): Promise<void> {
      await redis.incr(keys.groupVersion(groupId));
    },
  };
}

export type GroupMembersCache = ReturnType<typeof groupMembersCache>;
