import { QUEUES, type QueueName } from '@im/contracts';

/**
 * The one owner of how the fleet lays its state out in Redis: shards, hash tags, queue prefixes
 * and names, and every per-shard key outside BullMQ (admission, hot history, consumer leases).
 * Built once from config (and the deployment's record, docs/scaling.md) and passed down; a
 * change to sharding touches this file only.
 *
 * A message belongs to the shard of its conversation. Every key of shard k carries one hash
 * tag: its BullMQ queues (`{im}` for shard 0, `{im.s3}` for shard 3) and its admission state
 * (seq counters, dedupe records, rate counters) alike. So on Redis Cluster a shard lives on one
 * primary, and a failover loses or keeps a shard's jobs and the admission state that numbered
 * them together: replication is one ordered stream per primary, so a replica that holds a job
 * holds the seq counter and dedupe record written before it (docs/architecture.md).
 */

/** One shard of the pipeline. */
export interface Shard {
  readonly index: number;
  /** The hash tag every key of the shard carries (without braces): `im`, `im.s3`. */
  readonly tag: string;
  /** BullMQ prefix of the shard's queues: `{im}`, `{im.s3}`. */
  readonly queuePrefix: string;
  /** How people see a queue of this shard (metrics, CLI, dashboard): `im.persist`, `im.persist.s3`. */
  label(queue: QueueName): string;
  /** A key of BullMQ's own layout for one of this shard's queues (`meta`, `wait`, a job id). */
  queueKey(queue: QueueName, suffix: string): string;
  readonly keys: {
    /** Seq counter of a conversation: a hash {n: last seq, e: epoch it was checked in}. */
    seq(conversation: string): string;
    /** The shard's seq epoch: bumped whenever the Redis that holds the counters is not the one that last checked them. */
    seqEpoch: string;
    /** run_id of the Redis server that last checked the shard's counters. */
    seqNode: string;
    /** client_msg_id dedupe record of a sender, in the shard of the conversation it was sent to. */
    dedupe(senderId: string, clientMsgId: string): string;
    /** Send counter of a sender for one second. */
    rate(senderId: string, second: number): string;
    /** The hot-history cache of a conversation (a sorted set by seq). */
    hot(conversation: string): string;
    /** The lease of the one process that consumes a queue of this shard when delivery is ordered. */
    consumer(queue: QueueName): string;
    /**
     * The deployment generation allowed to admit into this shard (deployment.ts). Admission passes
     * the generation its process runs and is refused on any other: a process that has not followed
     * a reshard yet, or a shard whose state a reshard is moving (0), admits nothing.
     */
    generation: string;
    /** The shard's last admission ticket (queue.ordered): one per admission call that admitted a message. */
    ticket: string;
    /** Tickets whose job will never come (its send was refused or taken back): the sequencer skips them. */
    voidTickets: string;
    /** The last ticket the ordered persist consumer handed on: where the next consumer goes on. */
    ticketDone: string;
  };
}

export interface Topology {
  /** The configured queue prefix (shard 0's). */
  readonly prefix: string;
  readonly shards: number;
  /** Every shard, in order. */
  readonly all: readonly Shard[];
  shard(index: number): Shard;
  /** The shard of a conversation ('s:{low}:{high}' or 'g:{group_id}'). */
  of(conversation: string): Shard;
  /** The shards a worker process consumes: `consume_shards` when set, else all. */
  consumed(subset?: readonly string[]): Shard[];
  /** The deployment's record of its layout (shard count, layout version): one per deployment, in shard 0's slot. */
  readonly recordKey: string;
}

/** FNV-1a (32 bit) of a string: stable across processes and versions, cheap. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard index of a conversation among `shards`. */
export function shardIndexOf(conversation: string, shards: number): number {
  return shards <= 1 ? 0 : fnv1a(conversation) % shards;
}

/** The hash tag of a prefix (`{im}` -> `im`), or the prefix itself when it has none (one server only). */
function tagOf(prefix: string): string | undefined {
  return /\{([^{}]+)\}/.exec(prefix)?.[1];
}

function shardAt(prefix: string, index: number): Shard {
  const base = tagOf(prefix);
  const queuePrefix = index === 0 ? prefix : base !== undefined ? prefix.replace(`{${base}}`, `{${base}.s${index}}`) : `${prefix}.s${index}`;
  const tag = tagOf(queuePrefix) ?? queuePrefix;
  const k = (rest: string) => `im:{${tag}}:${rest}`;
  return {
    index,
    tag,
    queuePrefix,
    label: (queue) => (index === 0 || queue === QUEUES.cleaner ? queue : `${queue}.s${index}`),
    queueKey: (queue, suffix) => `${queuePrefix}:${queue}:${suffix}`,
    keys: {
      seq: (conversation) => k(`seq:${conversation}`),
      seqEpoch: k('seq:epoch'),
      seqNode: k('seq:node'),
      dedupe: (senderId, clientMsgId) => k(`dedupe:${senderId}:${clientMsgId}`),
      rate: (senderId, second) => k(`rate:${senderId}:${second}`),
      hot: (conversation) => k(`hot:${conversation}`),
      consumer: (queue) => `${queuePrefix}:${queue}:consumer`,
      generation: k('generation'),
      ticket: k('ticket'),
      voidTickets: k('ticket:void'),
      ticketDone: k('ticket:done'),
    },
  };
}

/** The layout of a deployment with `shards` shards under `prefix` (queue.prefix). */
export function topology(o: { prefix: string; shards: number }): Topology {
  if (!Number.isInteger(o.shards) || o.shards < 1) throw new Error(`shards must be a positive integer, got ${o.shards}`);
  const all = Array.from({ length: o.shards }, (_, i) => shardAt(o.prefix, i));
  return {
    prefix: o.prefix,
    shards: o.shards,
    all,
    shard(index) {
      const s = all[index];
      if (!s) throw new Error(`no shard ${index} among ${o.shards}`);
      return s;
    },
    of: (conversation) => all[shardIndexOf(conversation, o.shards)]!,
    consumed(subset = []) {
      if (subset.length === 0) return [...all];
      return [...new Set(subset.map(Number))].sort((a, b) => a - b).map((i) => this.shard(i));
    },
    recordKey: `${all[0]!.queuePrefix}:topology`,
  };
}
