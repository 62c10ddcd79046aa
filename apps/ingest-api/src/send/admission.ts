import type { Redis } from 'ioredis';
import { keys } from '@im/redis';

/**
 * One Redis round trip per message (auto-pipelined across messages) decides whether a send is
 * admitted: client_msg_id dedupe, the sender's rate limit, and the conversation's next seq.
 *
 * Dedupe record: 'P|id|seq|ts' (pending: being queued, 30 s) then 'A|id|seq|ts' (accepted, 24 h).
 * A pending record that is never confirmed (the enqueue failed, the process died) expires, so a
 * retry is accepted again instead of being answered with a message that was never queued.
 *
 * seq counters expire after 30 idle days; a missing counter is seeded from the highest stored seq
 * before use (status 'seed'), so a seq never repeats after a Redis restore or an expiry.
 */
const ADMIT_LUA = `
local dedupe = ARGV[4] == '1'
if dedupe then
  local prior = redis.call('GET', KEYS[2])
  if prior then return {'dup', prior} end
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[5] == '' then return {'seed', ''} end
  redis.call('SET', KEYS[1], ARGV[5], 'NX')
end
local limit = tonumber(ARGV[3])
if limit > 0 then
  local n = redis.call('INCR', KEYS[3])
  if n == 1 then redis.call('EXPIRE', KEYS[3], 2) end
  if n > limit then return {'rate', ''} end
end
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 2592000)
if dedupe then
  redis.call('SET', KEYS[2], 'P|' .. ARGV[1] .. '|' .. seq .. '|' .. ARGV[2], 'EX', 30)
end
return {'ok', tostring(seq)}
`;

export type Admission =
  | { status: 'ok'; seq: number }
  | { status: 'dup'; accepted: boolean; message_id: string; seq: number; timestamp: number }
  | { status: 'seed' }
  | { status: 'rate' };

type AdmitCommand = (
  seqKey: string,
  dedupeKey: string,
  rateKey: string,
  messageId: string,
  createdAt: number,
  limit: number,
  hasDedupe: '0' | '1',
  seed: string,
) => Promise<[string, string]>;

export interface AdmissionInput {
  conversation: string;
  sender_id: string;
  client_msg_id: string | null;
  message_id: string;
  created_at: number;
  /** Highest stored seq, when the counter had to be seeded. */
  seed?: number;
}

export function admissionLedger(redis: Redis, perSenderPerS: number) {
  redis.defineCommand('imAdmit', { numberOfKeys: 3, lua: ADMIT_LUA });
  const admit = (redis as unknown as { imAdmit: AdmitCommand }).imAdmit.bind(redis);

  return {
    async admit(a: AdmissionInput): Promise<Admission> {
      const dedupeKey = a.client_msg_id === null ? keys.dedupe(a.sender_id, '-') : keys.dedupe(a.sender_id, a.client_msg_id);
      const [status, value] = await admit(
        keys.seq(a.conversation),
        dedupeKey,
        keys.rate(a.sender_id, Math.floor(Date.now() / 1000)),
        a.message_id,
        a.created_at,
        perSenderPerS,
        a.client_msg_id === null ? '0' : '1',
        a.seed === undefined ? '' : String(a.seed),
      );
      if (status === 'ok') return { status, seq: Number(value) };
      if (status === 'dup') {
        const [state, messageId, seq, ts] = value.split('|');
        return { status, accepted: state === 'A', message_id: messageId!, seq: Number(seq), timestamp: Number(ts) };
      }
      if (status === 'seed' || status === 'rate') return { status };
      throw new Error(`unexpected admission status ${status}`);
    },

    /** These messages are durably queued: keep their dedupe records for 24 h (one pipeline per batch). */
    async confirm(messages: readonly { sender_id: string; client_msg_id: string | null; message_id: string; seq: number; created_at: number }[]): Promise<void> {
      const pipeline = redis.pipeline();
      for (const m of messages) {
        if (m.client_msg_id !== null) pipeline.set(keys.dedupe(m.sender_id, m.client_msg_id), `A|${m.message_id}|${m.seq}|${m.created_at}`, 'EX', 86_400);
      }
      if (pipeline.length > 0) await pipeline.exec();
    },

    /** The enqueue failed: forget the pending record so a retry is accepted. */
    async release(senderId: string, clientMsgId: string): Promise<void> {
      await redis.del(keys.dedupe(senderId, clientMsgId));
    },
  };
}

export type AdmissionLedger = ReturnType<typeof admissionLedger>;
