import type { Redis } from 'ioredis';
import { acceptedRecord, parseRecord, type DedupeRecord, type Shard } from '@im/redis';

export type { DedupeRecord };

/**
 * Admission of a whole micro-batch in one Redis call: for each message, in order, the
 * client_msg_id dedupe, the conversation's next seq and the sender's rate limit.
 *
 * seq counters never go back:
 * - Each counter is a hash {n: last seq, e: epoch}. The script reads the run_id of the Redis
 *   server it runs on (INFO); when it is not the server that last checked the counters (a restart,
 *   a restore from an older AOF or RDB, a failover to a replica that lagged), it bumps the epoch.
 *   A counter of another epoch, or none, is not trusted: the message gets status 'seed' and the
 *   caller asks MySQL for the highest seq stored (history and conversation_state), and the next
 *   call sets the counter to the greater of that and its own value before counting on.
 * - A Redis that comes back older than MySQL therefore never hands out a seq already stored.
 *
 * Dedupe records name the persist job that carries the message, and its conversation (so that a
 * reshard can move the record to the conversation's new shard):
 *   'P|job|message_id|seq|timestamp|written|conversation' (pending: being queued) and
 *   'A|message_id|seq|timestamp|conversation' (accepted: the job is queued), both kept 24 h.
 *   Records written before the conversation was part of them lack that last field.
 *
 * The call runs only in the deployment generation the shard admits (its `generation` key,
 * deployment.ts): on any other it admits nothing and answers 'stale' with the shard's generation.
 * A pending record is never dropped on a guess: a repeat that finds one asks whether its job is
 * queued (or its message stored) before deciding (send.service.ts).
 */
const ADMIT_LUA = `
if redis.call('GET', KEYS[3]) ~= ARGV[4] then
  return {0, 0, 'stale', redis.call('GET', KEYS[3]) or ''}
end
local node = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
local restarted = 0
local epoch = tonumber(redis.call('GET', KEYS[1]))
local checked = redis.call('GET', KEYS[2]) or ''
local checkedBy, checkedAt = string.match(checked, '^(%w*)|?(%d*)$')
if not epoch or checkedBy ~= node then
  epoch = redis.call('INCR', KEYS[1])
  redis.call('SET', KEYS[2], node .. '|' .. ARGV[3])
  restarted = 1
  checkedAt = ARGV[3]
end
-- Within two minutes of a change of server, dedupe records may have been lost with it.
if tonumber(checkedAt) and tonumber(ARGV[3]) - tonumber(checkedAt) < 120000 then restarted = restarted + 2 end
local limit = tonumber(ARGV[1])
local job = ARGV[2]
local written = ARGV[3]
local out = {restarted, 0}
-- A call admits all of its messages or none: while a counter must be checked against MySQL, none
-- is admitted (the others answer 'wait'). Otherwise the messages admitted in an earlier call of a
-- batch would ride in a job whose ticket, the later call's, is behind the admissions that other
-- processes made in between, and be handed on after messages of higher seqs.
local needsSeed, anySeed = {}, false
for i = 0, (#KEYS - 4) / 3 - 1 do
  local seqKey, dedupeKey = KEYS[5 + i * 3], KEYS[6 + i * 3]
  -- In the steady state the counter is of this epoch: one HGET, and the dedupe record is not read.
  if ARGV[9 + i * 5] == '' and tonumber(redis.call('HGET', seqKey, 'e')) ~= epoch
    and not (ARGV[8 + i * 5] == '1' and redis.call('EXISTS', dedupeKey) == 1) then
    needsSeed[i], anySeed = true, true
  end
end
if anySeed then
  for i = 0, (#KEYS - 4) / 3 - 1 do
    out[#out + 1] = needsSeed[i] and 'seed' or 'wait'
    out[#out + 1] = ''
  end
  return out
end
local unseeded = {}
local admitted = false
for i = 0, (#KEYS - 4) / 3 - 1 do
  local seqKey, dedupeKey, rateKey = KEYS[5 + i * 3], KEYS[6 + i * 3], KEYS[7 + i * 3]
  local mid, createdAt, dedupe, seed, conv = ARGV[6 + i * 5], ARGV[7 + i * 5], ARGV[8 + i * 5] == '1', ARGV[9 + i * 5], ARGV[10 + i * 5]
  local status, value = nil, ''
  if dedupe then
    local prior = redis.call('GET', dedupeKey)
    if prior then status, value = 'dup', prior end
  end
  if not status and unseeded[seqKey] then status = 'seed' end
  if not status and tonumber(redis.call('HGET', seqKey, 'e')) ~= epoch then
    if seed == '' then
      unseeded[seqKey] = true
      status = 'seed'
    else
      local floor = math.max(tonumber(seed), tonumber(redis.call('HGET', seqKey, 'n')) or 0)
      redis.call('HSET', seqKey, 'n', floor, 'e', epoch)
    end
  end
  if not status and limit > 0 then
    local n = redis.call('INCR', rateKey)
    if n == 1 then redis.call('EXPIRE', rateKey, 2) end
    if n > limit then status = 'rate' end
  end
  if not status then
    local seq = redis.call('HINCRBY', seqKey, 'n', 1)
    redis.call('EXPIRE', seqKey, 2592000)
    if dedupe then
      redis.call('SET', dedupeKey, 'P|' .. job .. '|' .. mid .. '|' .. seq .. '|' .. createdAt .. '|' .. written .. '|' .. conv, 'EX', 86400)
    end
    status, value = 'ok', tostring(seq)
    admitted = true
  end
  out[#out + 1] = status
  out[#out + 1] = value
end
if ARGV[5] == '1' and admitted then
  out[2] = redis.call('INCR', KEYS[4])
end
return out
`;

/** Rewrites pending records of a job as accepted, each only while it still is that job's pending record. */
const CONFIRM_LUA = `
local n = 0
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then
    redis.call('SET', KEYS[i], ARGV[i + 1], 'EX', 86400)
    n = n + 1
  end
end
return n
`;

/** Deletes pending records of a job, each only while it still is that job's pending record. */
const RELEASE_LUA = `
local n = 0
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    n = n + 1
  end
end
return n
`;

/** 'seed': the conversation's counter must be checked against MySQL; 'wait': nothing of the call was admitted because another message's counter must be. */
export type Admission = { status: 'ok'; seq: number } | { status: 'dup'; record: DedupeRecord } | { status: 'seed' } | { status: 'wait' } | { status: 'rate' };

/** The shard admits in another deployment generation than the caller's (a reshard happened or is under way): nothing was admitted. */
export class StaleGenerationError extends Error {
  constructor(readonly shardGeneration: number) {
    super(`the shard admits in deployment generation ${shardGeneration || '(none: being resharded)'}, not this process's`);
    this.name = 'StaleGenerationError';
  }
}

export interface AdmissionInput {
  conversation: string;
  sender_id: string;
  client_msg_id: string | null;
  message_id: string;
  created_at: number;
}

export interface DedupeRef {
  sender_id: string;
  client_msg_id: string | null;
}

type EvalCommand = (...args: (string | number)[]) => Promise<unknown>;

export function admissionLedger(redis: Redis, perSenderPerS: number, generation: () => number, ordered = false) {
  redis.defineCommand('imAdmit', { lua: ADMIT_LUA });
  redis.defineCommand('imConfirm', { lua: CONFIRM_LUA });
  redis.defineCommand('imRelease', { lua: RELEASE_LUA });
  const commands = redis as unknown as { imAdmit: EvalCommand; imConfirm: EvalCommand; imRelease: EvalCommand };
  const dedupeKey = (shard: Shard, m: DedupeRef) => shard.keys.dedupe(m.sender_id, m.client_msg_id ?? '-');

  return {
    /**
     * Admits messages of one shard (all their keys carry the shard's tag, the tag of its queues:
     * one slot, on the primary that holds the shard's jobs) in order, as one call. `seeds` holds the highest stored seq of conversations
     * whose counter had to be checked against MySQL (status 'seed' in an earlier call).
     * `restarted` is true when this call found the counters on a Redis server that had not checked
     * them yet (and so bumped the epoch); `recentlyChanged` while that was less than two minutes ago:
     * dedupe records written just before may have been lost with the old server, so the caller
     * looks for a repeat of a client_msg_id in MySQL too. With queue.ordered, a call that admitted anything takes
     * the shard's next ticket, in the same step as the seqs: tickets follow admission order across
     * every ingest process, so handing jobs on in ticket order hands each conversation on in seq
     * order (worker-kit's sequencer).
     */
    async admit(
      shard: Shard,
      items: readonly AdmissionInput[],
      jobId: string,
      seeds: ReadonlyMap<string, number>,
      now = Date.now(),
    ): Promise<{ restarted: boolean; recentlyChanged: boolean; ticket: number | undefined; results: Admission[] }> {
      const keyList: string[] = [shard.keys.seqEpoch, shard.keys.seqNode, shard.keys.generation, shard.keys.ticket];
      const args: (string | number)[] = [perSenderPerS, jobId, now, generation(), ordered ? '1' : '0'];
      const second = Math.floor(now / 1000);
      for (const m of items) {
        keyList.push(shard.keys.seq(m.conversation), dedupeKey(shard, m), shard.keys.rate(m.sender_id, second));
        const seed = seeds.get(m.conversation);
        args.push(m.message_id, m.created_at, m.client_msg_id === null ? '0' : '1', seed === undefined ? '' : seed, m.conversation);
      }
      const reply = (await commands.imAdmit(keyList.length, ...keyList, ...args)) as (number | string)[];
      if (reply[2] === 'stale') throw new StaleGenerationError(Number(reply[3]) || 0);
      const results: Admission[] = [];
      for (let i = 2; i < reply.length; i += 2) {
        const status = String(reply[i]);
        const value = String(reply[i + 1]);
        if (status === 'ok') results.push({ status, seq: Number(value) });
        else if (status === 'dup') results.push({ status, record: parseRecord(value) });
        else if (status === 'seed' || status === 'wait' || status === 'rate') results.push({ status });
        else throw new Error(`unexpected admission status ${status}`);
      }
      const flags = Number(reply[0]);
      return { restarted: (flags & 1) === 1, recentlyChanged: (flags & 2) === 2, ticket: Number(reply[1]) || undefined, results };
    },

    /** Marks the job's messages accepted (their job is queued): a repeat answers at once. Returns records rewritten. */
    async confirm(shard: Shard, jobId: string, messages: readonly (DedupeRef & { message_id: string; seq: number; created_at: number; conversation: string })[]): Promise<number> {
      const withId = messages.filter((m) => m.client_msg_id !== null);
      if (withId.length === 0) return 0;
      const values = withId.map(acceptedRecord);
      return Number(await commands.imConfirm(withId.length, ...withId.map((m) => dedupeKey(shard, m)), `P|${jobId}|`, ...values));
    },

    /** Marks a ticket whose job will never be queued, so the ordered consumer skips it at once (kept a day). */
    async voidTicket(shard: Shard, ticket: number): Promise<void> {
      await redis.sadd(shard.keys.voidTickets, ticket);
      await redis.expire(shard.keys.voidTickets, 86_400);
    },

    /** Forgets the job's pending records (the job is known not to be queued): a retry is accepted anew. */
    async release(shard: Shard, jobId: string, messages: readonly DedupeRef[]): Promise<number> {
      const withId = messages.filter((m) => m.client_msg_id !== null);
      if (withId.length === 0) return 0;
      return Number(await commands.imRelease(withId.length, ...withId.map((m) => dedupeKey(shard, m)), `P|${jobId}|`));
    },
  };
}

export type AdmissionLedger = ReturnType<typeof admissionLedger>;
