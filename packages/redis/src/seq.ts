import type { Redis } from 'ioredis';
import type { Shard } from './topology';

/**
 * Moves a conversation's seq counter past `floor` and takes the next seq: for a message whose
 * (conversation, seq) another message already holds in MySQL (a detected fault; see
 * infra/mysql/migrations/012_seq_claims.sql). The counter keeps its epoch, so admission goes on
 * counting above the seq taken here.
 */
const TAKE_ABOVE_LUA = `
local n = math.max(tonumber(redis.call('HGET', KEYS[1], 'n')) or 0, tonumber(ARGV[1])) + 1
redis.call('HSET', KEYS[1], 'n', n)
redis.call('EXPIRE', KEYS[1], 2592000)
return n`;

export async function takeSeqAbove(redis: Redis, shard: Shard, conversation: string, floor: number): Promise<number> {
  return Number(await redis.eval(TAKE_ABOVE_LUA, 1, shard.keys.seq(conversation), floor));
}
