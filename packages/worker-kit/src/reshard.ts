import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '@im/config';
import { QUEUES } from '@im/contracts';
import { acceptedRecord, isCluster, parseRecord, topology, type Redis, type Shard, type Topology } from '@im/redis';
import { createLogger } from '@im/logger';
import { legacyShardsKey, openShards, readDeployment } from './deployment';
import { jobCounts, SHARDED_STAGES, shardQueues } from './queues';

export interface ReshardOptions {
  redis: Redis;
  config: Config;
  /** The conversation of each stored (or recalled) message among ids, from MySQL: for dedupe records that do not name theirs. */
  conversationsOf(messageIds: readonly string[]): Promise<Map<string, string>>;
  /** A line of progress for the operator. */
  progress(line: string): void;
  /** How long to wait for the queues to drain before giving up (and reopening the shards as they were). */
  drainTimeoutMs?: number;
}

export interface ReshardReport {
  from: number;
  to: number;
  generation: number;
  countersMoved: number;
  recordsMoved: number;
  recordsDropped: number;
}

/** Where a shard's admission state and queues were before the reshard. */
interface Source {
  /** The hash tag of its admission keys (`adm` and `adm.sK` for a deployment of an older release). */
  tag: string;
  /** Its queues (the same layout before and after). */
  queues: Shard;
  /** An older release's admission keys, which all move. */
  legacy: boolean;
}

/** Raises a counter to at least ARGV[1] and leaves it unchecked (no epoch), so admission checks it against MySQL before use. */
const MERGE_COUNTER_LUA = `
local n = math.max(tonumber(redis.call('HGET', KEYS[1], 'n')) or 0, tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'n', n)
redis.call('HDEL', KEYS[1], 'e')
redis.call('EXPIRE', KEYS[1], 2592000)
return n`;

/**
 * Changes the deployment's shard count without repeating a seq or stranding a job
 * (`im-message reshard N`; docs/scaling.md):
 * 1. the record says `resharding`, and every shard's generation key is set to 0, so admission
 *    refuses every send (503, safe to retry) from that moment, atomically per shard;
 * 2. it waits out the request bound, so every send admitted before is queued or refused, then
 *    for every stage of every shard to drain (progress every second): every seq handed out is then
 *    in MySQL; a failed persist job (accepted messages), or a failed job of a shard that goes
 *    away, stops the reshard before anything moved, with the shards open again;
 * 3. it moves the admission state to the new shards: seq counters (raised, and left for admission
 *    to check against MySQL), dedupe records (a pending one becomes accepted if its message is
 *    stored, and is dropped if not), and drops the hot-history caches (rebuilt on read);
 * 4. the record takes the new count and the next generation, and the new shards open in it;
 *    shards that went away stay closed. Every process sees the generation change within 2 s and
 *    restarts on the new layout; one that sends before then is refused by the shard (stale).
 * Running it again after an interruption finishes it; a deployment of an older release (shard
 * count under `{prefix}:shards`, admission keys in `{adm}` tags) is moved the same way, once its
 * ingest processes are stopped.
 */
export async function reshard(o: ReshardOptions, target: number): Promise<ReshardReport> {
  if (!Number.isInteger(target) || target < 1 || target > 256) throw new Error(`the shard count must be 1 to 256, got ${target}`);
  const { redis, config } = o;
  const prefix = config.queue.prefix;
  const to = topology({ prefix, shards: target });
  let record = await readDeployment(redis, prefix);
  const legacy = record ? 0 : Number(await redis.get(legacyShardsKey(prefix))) || 0;
  if (!record && legacy === 0) {
    // No process has joined yet: the record is simply written.
    await redis.hset(to.recordKey, 'shards', target, 'generation', 1, 'state', 'active');
    await openShards(redis, to, 1, true);
    return { from: target, to: target, generation: 1, countersMoved: 0, recordsMoved: 0, recordsDropped: 0 };
  }
  if (record?.state === 'resharding' && record.target !== target) {
    throw new Error(`a reshard to ${record.target} shard(s) is under way: run \`im-message reshard ${record.target}\` to finish it first`);
  }
  if (record && record.state === 'active' && record.shards === target) {
    return { from: target, to: target, generation: record.generation, countersMoved: 0, recordsMoved: 0, recordsDropped: 0 };
  }
  const fromCount = record?.shards ?? legacy;
  const from = topology({ prefix, shards: fromCount });
  const generation = record?.generation ?? 0;
  const sources: Source[] = from.all.map((s) => ({ tag: legacy > 0 ? (s.index === 0 ? 'adm' : `adm.s${s.index}`) : s.tag, queues: s, legacy: legacy > 0 }));

  // 1. Close every shard to admission.
  await redis.hset(to.recordKey, 'shards', fromCount, 'generation', generation, 'state', 'resharding', 'target', target);
  await Promise.all(from.all.map((s) => redis.set(s.keys.generation, '0')));
  o.progress(`resharding from ${fromCount} to ${target} shard(s): admission closed (sends get 503 until it is done)`);

  // 2. Sends admitted before are queued or refused within the request bound; then drain.
  await sleep(config.message_service.request_timeout_ms + 1000);
  try {
    await drain(o, from, to);
  } catch (err) {
    await openShards(redis, from, generation, true);
    await redis.hset(to.recordKey, 'state', 'active');
    await redis.hdel(to.recordKey, 'target');
    throw err;
  }

  // 3. Move the admission state.
  const moved = await moveAdmissionState(o, sources, to);

  // 4. The new layout, in the next generation.
  const next = generation + 1;
  await Promise.all(to.all.map((s) => redis.set(s.keys.generation, String(next))));
  await redis.hset(to.recordKey, 'shards', target, 'generation', next, 'state', 'active');
  await redis.hdel(to.recordKey, 'target');
  if (legacy > 0) await redis.del(legacyShardsKey(prefix));
  o.progress(`done: ${target} shard(s), generation ${next}; processes restart on the new layout within seconds`);
  return { from: fromCount, to: target, generation: next, ...moved };
}

/** Waits until no stage of any shard has work left; refuses to go on over failed jobs that would be stranded or hold accepted messages. */
async function drain(o: ReshardOptions, from: Topology, to: Topology): Promise<void> {
  const log = createLogger('cli', 'silent');
  const stages = [...SHARDED_STAGES];
  const queues = stages.flatMap((stage) => shardQueues(stage, o.redis, o.config, log, from.all as Shard[]).map((q) => ({ ...q, stage })));
  const deadline = Date.now() + (o.drainTimeoutMs ?? 600_000);
  try {
    for (;;) {
      const counts = await Promise.all(queues.map(async (q) => ({ q, c: await jobCounts(q.queue) })));
      const stranded = counts.filter(({ q, c }) => c.failed > 0 && (q.stage === QUEUES.persist || q.shard >= to.shards));
      if (stranded.length > 0) {
        throw new Error(
          `failed jobs would be stranded or hold accepted messages: ${stranded.map(({ q, c }) => `${q.label} ${c.failed}`).join(', ')}; ` +
            'see them with `im-message failed QUEUE --shard K`, retry or remove them, then run the reshard again (nothing was moved)',
        );
      }
      const left = counts.filter(({ c }) => c.backlog > 0);
      if (left.length === 0) return;
      if (Date.now() > deadline) throw new Error(`the queues did not drain in time (${left.map(({ q, c }) => `${q.label} ${c.backlog}`).join(', ')}); nothing was moved, the shards are open again`);
      o.progress(`draining: ${left.map(({ q, c }) => `${q.label} ${c.backlog}`).join(', ')}`);
      await sleep(1000);
    }
  } finally {
    await Promise.all(queues.map((q) => q.queue.close()));
  }
}

/** Every key matching `pattern` (one hash tag's keys live on one node; on a cluster every primary is asked). */
async function* scan(redis: Redis, pattern: string): AsyncGenerator<string[]> {
  const nodes = isCluster(redis) ? (redis as unknown as { nodes(role: 'master'): Redis[] }).nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

async function moveAdmissionState(o: ReshardOptions, sources: readonly Source[], to: Topology): Promise<Omit<ReshardReport, 'from' | 'to' | 'generation'>> {
  const { redis } = o;
  let countersMoved = 0;
  let recordsMoved = 0;
  let recordsDropped = 0;
  for (const source of sources) {
    const base = `im:{${source.tag}}:`;
    for await (const keys of scan(redis, `${base}seq:*`)) {
      for (const key of keys) {
        const conversation = key.slice(`${base}seq:`.length);
        if (conversation === 'epoch' || conversation === 'node') {
          // A shard that stays keeps its epoch; the keys of one that goes (or of the old layout) go too.
          if (source.legacy || source.queues.index >= to.shards) await redis.del(key);
          continue;
        }
        const dest = to.of(conversation);
        if (dest.tag === source.tag) continue;
        const n = Number((await redis.hget(key, 'n')) ?? 0);
        await redis.eval(MERGE_COUNTER_LUA, 1, dest.keys.seq(conversation), n);
        await redis.del(key);
        countersMoved++;
      }
    }
    for await (const keys of scan(redis, `${base}dedupe:*`)) {
      const entries = await Promise.all(keys.map(async (key) => ({ key, value: await redis.get(key), ttl: await redis.pttl(key) })));
      const live = entries.filter((e): e is { key: string; value: string; ttl: number } => e.value !== null);
      const records = live.map((e) => ({ ...e, record: parseRecord(e.value) }));
      // Records of older releases do not name their conversation; pending ones may not have been stored.
      const unknown = records.filter((r) => r.record.conversation === undefined || r.record.state === 'P').map((r) => r.record.message_id);
      const stored = unknown.length > 0 ? await o.conversationsOf(unknown) : new Map<string, string>();
      for (const r of records) {
        const conversation = r.record.conversation ?? stored.get(r.record.message_id);
        const done = r.record.state === 'A' || stored.has(r.record.message_id);
        const sub = r.key.slice(`${base}dedupe:`.length);
        const [sender, ...rest] = sub.split(':');
        if (!done || conversation === undefined) {
          // A pending record whose job is done but whose message is not stored: the send was never queued.
          await redis.del(r.key);
          recordsDropped++;
          continue;
        }
        const dest = to.of(conversation);
        const value = acceptedRecord({ message_id: r.record.message_id, seq: r.record.seq, created_at: r.record.timestamp, conversation });
        const destKey = dest.keys.dedupe(sender!, rest.join(':'));
        if (destKey === r.key) {
          if (value !== r.value) await redis.set(destKey, value, 'PX', Math.max(1, r.ttl));
          continue;
        }
        await redis.set(destKey, value, 'PX', Math.max(1, r.ttl), 'NX');
        await redis.del(r.key);
        recordsMoved++;
      }
    }
    for await (const keys of scan(redis, `${base}hot:*`)) for (const key of keys) await redis.del(key);
    o.progress(`moved the admission state of ${source.queues.label(QUEUES.persist)}'s shard`);
  }
  return { countersMoved, recordsMoved, recordsDropped };
}
