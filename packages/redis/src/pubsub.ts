import { isCluster, type Redis } from './connections';

export type PubSubMode = 'classic' | 'sharded';

/** A PUBLISH whose receiver count cannot be known (classic Pub/Sub on a cluster counts one node only). */
export const HEARD_UNKNOWN = -1;

/**
 * Publishing on the contract's channels (user:{id}, group:{id}, system:notification).
 *
 * - classic, one server: pipelined PUBLISH; each count says how many subscribers heard it.
 * - classic, Redis Cluster: PUBLISH reaches subscribers on every node, but its count covers only
 *   the node it ran on, so it cannot tell "nobody heard": counts come back as HEARD_UNKNOWN and
 *   delivery relies on the ack timeout to store an unheard message offline.
 * - sharded (Redis 7 SPUBLISH; gateways SSUBSCRIBE): a channel lives on the node of its slot and
 *   the count covers every subscriber of it, on one server or a cluster.
 */
export function publisher(redis: Redis, mode: PubSubMode) {
  const cluster = isCluster(redis);
  return {
    mode,
    /** Publishes many (channel, payload) pairs at once; resolves to each one's receiver count. */
    async publishMany(pairs: readonly (readonly [channel: string, payload: string])[]): Promise<number[]> {
      if (pairs.length === 0) return [];
      if (cluster) {
        // Each command goes to its own node; sent at once, they pipeline per connection.
        if (mode === 'sharded') return Promise.all(pairs.map(([c, p]) => redis.spublish(c, p).then(Number)));
        await Promise.all(pairs.map(([c, p]) => redis.publish(c, p)));
        return pairs.map(() => HEARD_UNKNOWN);
      }
      const pipeline = redis.pipeline();
      for (const [c, p] of pairs) {
        if (mode === 'sharded') pipeline.spublish(c, p);
        else pipeline.publish(c, p);
      }
      const results = (await pipeline.exec()) ?? [];
      return results.map(([err, heard]) => {
        if (err) throw err;
        return Number(heard);
      });
    },
    async publish(channel: string, payload: string): Promise<number> {
      const [heard] = await this.publishMany([[channel, payload]]);
      return heard!;
    },
  };
}

export type Publisher = ReturnType<typeof publisher>;
