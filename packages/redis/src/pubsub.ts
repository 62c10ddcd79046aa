import type { Cluster } from 'ioredis';
import { calculateSlot, isCluster, type Redis } from './connections';

export type PubSubMode = 'classic' | 'sharded';

/** A PUBLISH whose receiver count cannot be known (classic Pub/Sub on a cluster counts one node only). */
export const HEARD_UNKNOWN = -1;

type Pair = readonly [channel: string, payload: string];

/**
 * Publishing on the contract's channels (user:{id}, group:{id}, system:notification).
 *
 * - classic, one server: pipelined PUBLISH; each count says how many subscribers heard it.
 * - classic, Redis Cluster: PUBLISH reaches subscribers on every node, but its count covers only
 *   the node it ran on, so it cannot tell "nobody heard": counts come back as HEARD_UNKNOWN and
 *   delivery relies on the ack timeout to store an unheard message offline. Every publish of a
 *   channel goes through one node, the primary that owns the channel name's slot (see
 *   publishThroughSlotOwners), so a channel's messages reach every subscriber in publish order.
 * - sharded (Redis 7 SPUBLISH; gateways SSUBSCRIBE): a channel lives on the node of its slot and
 *   the count covers every subscriber of it, on one server or a cluster.
 */
export function publisher(redis: Redis, mode: PubSubMode) {
  const cluster = isCluster(redis);
  return {
    mode,
    /** Publishes many (channel, payload) pairs at once; resolves to each one's receiver count. */
    async publishMany(pairs: readonly Pair[]): Promise<number[]> {
      if (pairs.length === 0) return [];
      if (cluster) {
        // Each command goes to its own node; sent at once, they pipeline per connection.
        if (mode === 'sharded') return Promise.all(pairs.map(([c, p]) => redis.spublish(c, p).then(Number)));
        await publishThroughSlotOwners(redis as unknown as Cluster, pairs);
        return pairs.map(() => HEARD_UNKNOWN);
      }
      const pipeline = redis.pipeline();
      for (const [c, p] of pairs) {
        if (mode === 'sharded') pipeline.spublish(c, p);
        else pipeline.publish(c, p);
      }
      return counts(await pipeline.exec());
    },
    async publish(channel: string, payload: string): Promise<number> {
      const [heard] = await this.publishMany([[channel, payload]]);
      return heard!;
    },
  };
}

/**
 * Classic PUBLISH on a cluster. PUBLISH names no key, so a cluster client sends each one to any
 * primary, and the node it ran on forwards it to the others over the cluster bus. Two publishes of
 * one channel that ran on two nodes reach a subscriber on a third over two links, in either order
 * (the ordering test counted hundreds of inversions in 2,000 messages). Here every publish of a
 * channel runs on one node, the primary that owns the channel name's slot in the client's slot
 * map: one connection to it and one bus link from it to each other node, each in order, so a
 * channel's messages reach every subscriber in the order they were published. Publishes are
 * pipelined per node. Any node accepts a PUBLISH, so a slot map gone stale (a failover, a
 * resharding) only moves a channel to another node once; a slot whose primary the client does not
 * know yet is published through the cluster client, as before.
 */
async function publishThroughSlotOwners(cluster: Cluster, pairs: readonly Pair[]): Promise<void> {
  const primaries = new Map(cluster.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
  const byNode = new Map<Redis, Pair[]>();
  const unplaced: Pair[] = [];
  for (const pair of pairs) {
    const owner = cluster.slots[calculateSlot(pair[0])]?.[0];
    const node = owner === undefined ? undefined : primaries.get(owner);
    if (!node) {
      unplaced.push(pair);
      continue;
    }
    const list = byNode.get(node);
    if (list) list.push(pair);
    else byNode.set(node, [pair]);
  }
  await Promise.all([
    ...[...byNode].map(async ([node, list]) => {
      const pipeline = node.pipeline();
      for (const [c, p] of list) pipeline.publish(c, p);
      counts(await pipeline.exec());
    }),
    ...unplaced.map(([c, p]) => cluster.publish(c, p)),
  ]);
}

/** A pipeline's replies as numbers; the first failed command's error is thrown. */
function counts(results: [error: Error | null, result: unknown][] | null): number[] {
  return (results ?? []).map(([err, heard]) => {
    if (err) throw err;
    return Number(heard);
  });
}

export type Publisher = ReturnType<typeof publisher>;
