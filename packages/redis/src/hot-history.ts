import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { OmitAccepted } from '@im/contracts';
import { calculateSlot } from './connections';
import type { Topology } from './topology';

/** A history row as the cache keeps it: the stored message without its dedupe key. */
export type HotRow = OmitAccepted<'client_msg_id'>;

/**
 * The newest messages of conversations that are being read: the first history page without MySQL.
 *
 * One sorted set per conversation (score = seq, member = the row as JSON) plus a meta member at
 * score -inf: `~{token}|{state}`, state s (wanted, not filled yet), r (ready: the newest rows) or
 * a (ready and holding every row of the conversation). The key lives `ttlS` from its creation and
 * is never extended, so whatever the cache cannot see (retention) shows within that time.
 *
 * - A read that finds no key creates it in state s and goes to MySQL (`read` → undefined).
 * - worker-persist, after its rows are committed, looks the round's conversations up. A key in
 *   state s is filled from MySQL (read after the commit, so it holds every committed row); a ready
 *   key gets the round's rows. Either write happens only if the key still carries the token seen,
 *   so a key deleted or re-created meanwhile is left alone. Any row committed after a fill has its
 *   own round's write; any row committed before it is in the fill.
 * - Recall deletes the key (`forget`) after deleting the row.
 *
 * Keys carry the hash tag of their conversation's shard (the admission tag), so a persist round,
 * whose conversations share a shard, is one script call on one Redis Cluster slot.
 */
export interface HotHistory {
  /** The newest `limit` rows, newest first, or undefined when the cache cannot answer. */
  read(conversation: string, limit: number): Promise<{ rows: HotRow[]; hasMore: boolean } | undefined>;
  /**
   * After rows are committed to history: fills wanted keys (with `newest`, a MySQL read of the
   * newest rows) and adds the rows to ready ones.
   */
  committed(rows: readonly (HotRow & { conversation: string })[], newest: (conversation: string, limit: number) => Promise<{ rows: HotRow[]; hasMore: boolean }>): Promise<void>;
  /** Drops a conversation's cache (after a recall). */
  forget(conversation: string): Promise<void>;
}

export interface HotHistoryOptions {
  /** Rows kept per conversation; 0 turns the cache off. */
  size: number;
  ttlS: number;
  /** Where a conversation's cache lives: in its shard's slot. */
  topology: Topology;
}

const READ_LUA = `
local meta = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if not meta then
  redis.call('ZADD', KEYS[1], '-inf', '~' .. ARGV[2] .. '|s')
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return false
end
local state = string.sub(meta, -1)
if state == 's' then return false end
local limit = tonumber(ARGV[1])
if redis.call('ZCARD', KEYS[1]) - 1 <= limit and state ~= 'a' then return false end
return redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(-inf', 'LIMIT', 0, limit + 1)
`;

const PROBE_LUA = `
local out = {}
for i, k in ipairs(KEYS) do out[i] = redis.call('ZRANGE', k, 0, 0)[1] or '' end
return out
`;

// ARGV: size, then per key: token, fill ('' or 'r' or 'a'), n, then n pairs of seq, member.
const APPLY_LUA = `
local size = tonumber(ARGV[1])
local a = 2
for _, k in ipairs(KEYS) do
  local token, fill, n = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  a = a + 3
  local meta = redis.call('ZRANGE', k, 0, 0)[1]
  if meta and string.sub(meta, 2, #meta - 2) == token then
    for i = 0, n - 1 do
      local seq, member = ARGV[a + 2 * i], ARGV[a + 2 * i + 1]
      redis.call('ZREMRANGEBYSCORE', k, seq, seq)
      redis.call('ZADD', k, seq, member)
    end
    local state = fill ~= '' and fill or string.sub(meta, -1)
    local count = redis.call('ZCARD', k) - 1
    if count > size then
      redis.call('ZREMRANGEBYRANK', k, 1, count - size)
      state = 'r'
    end
    local next = '~' .. token .. '|' .. state
    if next ~= meta then
      redis.call('ZREM', k, meta)
      redis.call('ZADD', k, '-inf', next)
    end
  end
  a = a + 2 * n
end
return 0
`;

function encode(r: HotRow): string {
  return JSON.stringify({
    message_id: r.message_id,
    seq: r.seq,
    sender_id: r.sender_id,
    receiver_id: r.receiver_id,
    group_id: r.group_id,
    content: r.content,
    message_type: r.message_type,
    created_at: r.created_at,
  });
}

export function hotHistory(redis: Redis, o: HotHistoryOptions): HotHistory {
  const key = (conversation: string) => o.topology.of(conversation).keys.hot(conversation);
  const ttlMs = o.ttlS * 1000;

  async function committedInSlot(
    convs: Map<string, (HotRow & { conversation: string })[]>,
    newest: (conversation: string, limit: number) => Promise<{ rows: HotRow[]; hasMore: boolean }>,
  ): Promise<void> {
    const names = [...convs.keys()];
    const metas = (await redis.eval(PROBE_LUA, names.length, ...names.map(key))) as string[];
    const apply: { conversation: string; token: string; fill: string; rows: readonly HotRow[] }[] = [];
    await Promise.all(
      names.map(async (conversation, i) => {
        const meta = metas[i]!;
        if (meta === '') return;
        const token = meta.slice(1, -2);
        if (meta.endsWith('|s')) {
          const page = await newest(conversation, o.size);
          apply.push({ conversation, token, fill: page.hasMore ? 'r' : 'a', rows: page.rows });
        } else apply.push({ conversation, token, fill: '', rows: convs.get(conversation)! });
      }),
    );
    if (apply.length === 0) return;
    const argv: (string | number)[] = [o.size];
    for (const x of apply) {
      argv.push(x.token, x.fill, x.rows.length);
      for (const r of x.rows) argv.push(r.seq, encode(r));
    }
    await redis.eval(APPLY_LUA, apply.length, ...apply.map((x) => key(x.conversation)), ...argv);
  }

  return {
    async read(conversation, limit) {
      if (o.size === 0 || limit >= o.size) return undefined;
      const members = (await redis.eval(READ_LUA, 1, key(conversation), limit, randomUUID(), ttlMs)) as string[] | null;
      if (!members) return undefined;
      const rows = members.slice(0, limit).map((m) => JSON.parse(m) as HotRow);
      return { rows, hasMore: members.length > limit };
    },

    async committed(rows, newest) {
      if (o.size === 0 || rows.length === 0) return;
      const bySlot = new Map<number, Map<string, (HotRow & { conversation: string })[]>>();
      for (const r of rows) {
        const slot = calculateSlot(key(r.conversation));
        let convs = bySlot.get(slot);
        if (!convs) bySlot.set(slot, (convs = new Map()));
        const list = convs.get(r.conversation);
        if (list) list.push(r);
        else convs.set(r.conversation, [r]);
      }
      await Promise.all([...bySlot.values()].map((convs) => committedInSlot(convs, newest)));
    },

    async forget(conversation) {
      if (o.size > 0) await redis.del(key(conversation));
    },
  };
}
