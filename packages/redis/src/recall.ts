import type { Redis } from 'ioredis';
import { mgetAny } from './connections';
import { keys } from './keys';

/** How long a recall tombstone stops deliveries still in flight. */
export const RECALL_TOMBSTONE_S = 86_400;

/** Marks a message recalled: delivery still in flight must neither publish nor store it. */
export async function markRecalled(redis: Redis, messageId: string): Promise<void> {
  await redis.set(keys.recalled(messageId), '1', 'EX', RECALL_TOMBSTONE_S);
}

/** The ids among messageIds that were recalled (one MGET of tombstones; one per slot on a cluster). */
export async function recalledAmong(redis: Redis, messageIds: readonly string[]): Promise<Set<string>> {
  const marks = await mgetAny(redis, messageIds.map(keys.recalled));
  return new Set(messageIds.filter((_, i) => marks[i] !== null));
}
