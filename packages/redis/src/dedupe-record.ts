import type { Redis } from 'ioredis';
import type { Shard } from './topology';

/**
 * The client_msg_id dedupe record of a send, as ingest's admission script writes it in the shard
 * of the send's conversation (apps/ingest-api/src/send/admission.ts): pending while its persist
 * job is being queued, accepted once it is. The conversation lets a reshard move the record to the
 * conversation's new shard; records written before it was part of them lack it.
 */
export type DedupeRecord =
  | { state: 'A'; message_id: string; seq: number; timestamp: number; conversation?: string }
  | { state: 'P'; job_id: string; message_id: string; seq: number; timestamp: number; written: number; conversation?: string };

export function parseRecord(value: string): DedupeRecord {
  const f = value.split('|');
  if (f[0] === 'A' && (f.length === 4 || f.length === 5)) return { state: 'A', message_id: f[1]!, seq: Number(f[2]), timestamp: Number(f[3]), ...(f[4] ? { conversation: f[4] } : {}) };
  if (f[0] === 'P' && (f.length === 6 || f.length === 7)) {
    return { state: 'P', job_id: f[1]!, message_id: f[2]!, seq: Number(f[3]), timestamp: Number(f[4]), written: Number(f[5]), ...(f[6] ? { conversation: f[6] } : {}) };
  }
  throw new Error(`unreadable dedupe record (${f[0]}, ${f.length} fields)`);
}

/** The accepted form of a record. */
export const acceptedRecord = (m: { message_id: string; seq: number; created_at: number; conversation: string }) => `A|${m.message_id}|${m.seq}|${m.created_at}|${m.conversation}`;


/**
 * Before a persist round stores its messages: the client_msg_id of each message is claimed again
 * in its dedupe record, in one call for the shard (every record of a shard is in its slot).
 * - No record: the Redis server under the shard changed and lost it with the job's admission (the
 *   job survived in a worker, or was added back by one). It is written again, pending on the job,
 *   so a repeat of the send finds its first outcome instead of being admitted anew.
 * - A record of this message: kept.
 * - A record of another message: after that loss a repeat of the send was admitted anew, and
 *   answered 202 under its own id, while this first attempt was answered 503. This message is
 *   superseded: it is not stored, so the sender's client_msg_id is stored once, under the id it
 *   was answered with.
 * Resolves to the ids of the superseded messages.
 */
const RECLAIM_LUA = `
local out = {}
for i = 1, #KEYS do
  local mid = ARGV[i * 2 - 1]
  local v = redis.call('GET', KEYS[i])
  if not v then
    redis.call('SET', KEYS[i], ARGV[i * 2], 'EX', 86400)
  else
    local held = string.match(v, '^A|([^|]*)') or string.match(v, '^P|[^|]*|([^|]*)')
    if held ~= mid then out[#out + 1] = mid end
  end
end
return out`;

export interface SentMessage {
  job_id: string;
  message_id: string;
  sender_id: string;
  client_msg_id: string | null;
  seq: number;
  created_at: number;
  conversation: string;
}

export async function reclaimDedupe(redis: Redis, shard: Shard, messages: readonly SentMessage[], now = Date.now()): Promise<Set<string>> {
  const withId = messages.filter((m): m is SentMessage & { client_msg_id: string } => m.client_msg_id !== null);
  if (withId.length === 0) return new Set();
  const args = withId.flatMap((m) => [m.message_id, `P|${m.job_id}|${m.message_id}|${m.seq}|${m.created_at}|${now}|${m.conversation}`]);
  const superseded = (await redis.eval(RECLAIM_LUA, withId.length, ...withId.map((m) => shard.keys.dedupe(m.sender_id, m.client_msg_id)), ...args)) as string[];
  return new Set(superseded.map(String));
}
