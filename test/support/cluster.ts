import { describe, it } from 'node:test';

/**
 * Runs end-to-end suites again on the local Redis Cluster (3 primaries, 3 replicas, started by
 * `npm test`): the fleet and the test's own clients then use the cluster, the pipeline runs in
 * three shards, and Pub/Sub is `sharded` (SPUBLISH/SSUBSCRIBE) or `classic` (PUBLISH/SUBSCRIBE,
 * the contract's default) as asked (sharded when not said). Without a cluster (servers given by REDIS_URL / MYSQL_URL
 * only) the suites are skipped, saying why.
 */
export async function onCluster(load: () => Promise<unknown>, options: { shards?: number; pubsub?: 'classic' | 'sharded' } = {}): Promise<void> {
  if (!process.env.TEST_REDIS_CLUSTER_NODES) {
    describe('on the Redis Cluster', () => {
      it('needs the local Redis Cluster of npm test (or REDIS_CLUSTER_NODES with REDIS_URL and MYSQL_URL)', { skip: 'no Redis Cluster' }, () => {});
    });
    return;
  }
  process.env.TEST_TOPOLOGY = 'cluster';
  process.env.TEST_SHARDS = String(options.shards ?? 3);
  process.env.TEST_PUBSUB = options.pubsub ?? 'sharded';
  await load();
}
