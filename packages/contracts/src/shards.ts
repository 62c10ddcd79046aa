import type { QueueName } from './pipeline';

/**
 * Shards of the pipeline (queue.shards). A message belongs to the shard of its conversation, so a
 * conversation's messages keep their order through one queue per stage; each shard's queues carry
 * a hash tag of their own, so on Redis Cluster the shards spread over the nodes. Shard 0 keeps
 * the configured prefix (with one shard, today's names); shard k > 0 puts `.s{k}` inside its tag.
 */

/** FNV-1a (32 bit) of a string: stable across processes and versions, cheap. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard of a conversation ('s:{low}:{high}' or 'g:{group_id}'). */
export function shardOf(conversation: string, shards: number): number {
  return shards <= 1 ? 0 : fnv1a(conversation) % shards;
}

/** Every shard number, or the configured subset a worker consumes (queue.consume_shards). */
export function shardList(shards: number, subset: readonly string[] = []): number[] {
  return subset.length > 0 ? [...new Set(subset.map(Number))].sort((a, b) => a - b) : Array.from({ length: shards }, (_, k) => k);
}

/** The BullMQ prefix of a shard's queues: `{im}` for shard 0, `{im.s3}` for shard 3. */
export function shardPrefix(prefix: string, shard: number): string {
  if (shard === 0) return prefix;
  const tag = /\{([^{}]+)\}/.exec(prefix);
  return tag ? prefix.replace(tag[0], `{${tag[1]}.s${shard}}`) : `${prefix}.s${shard}`;
}

/** How people see a shard's queue (metrics, CLI, dashboard): `im.persist`, `im.persist.s3`. */
export function shardQueueName(queue: QueueName, shard: number): string {
  return shard === 0 ? queue : `${queue}.s${shard}`;
}

/** The hash tag of a shard's admission keys (seq, dedupe, rate): `adm`, `adm.s3`. */
export function admissionTag(shard: number): string {
  return shard === 0 ? 'adm' : `adm.s${shard}`;
}
