import { randomBytes } from 'node:crypto';
import { createRedis, type Redis, type RedisRole, type RedisTarget } from '@im/redis';

/** The servers `npm test` started (or that REDIS_URL / MYSQL_URL name). */
export function testServers(): { redisUrl: string; mysqlUrl: string } {
  const redisUrl = process.env.REDIS_URL;
  const mysqlUrl = process.env.MYSQL_URL;
  if (!redisUrl || !mysqlUrl) throw new Error('REDIS_URL and MYSQL_URL are not set: run the tests through `npm test`');
  return { redisUrl, mysqlUrl };
}

/**
 * The topology the tests run on. `npm test` runs every test on one Redis server, then the
 * end-to-end suites again on the local Redis Cluster (TEST_TOPOLOGY=cluster), with the fleet
 * sharded (TEST_SHARDS), on classic or sharded Pub/Sub (TEST_PUBSUB).
 */
export function topology(): { cluster: boolean; clusterNodes: string[]; shards: number; pubsub: 'classic' | 'sharded' } {
  const cluster = process.env.TEST_TOPOLOGY === 'cluster';
  const clusterNodes = (process.env.TEST_REDIS_CLUSTER_NODES ?? '').split(',').filter(Boolean);
  if (cluster && clusterNodes.length === 0) throw new Error('TEST_TOPOLOGY=cluster needs TEST_REDIS_CLUSTER_NODES: run the tests through `npm test`');
  return {
    cluster,
    clusterNodes,
    shards: Number(process.env.TEST_SHARDS ?? 1),
    pubsub: process.env.TEST_PUBSUB === 'sharded' ? 'sharded' : 'classic',
  };
}

/** Where the fleet's Redis is, for the tests' own clients: the server, or the cluster. */
export function testRedisTarget(): RedisTarget {
  const t = topology();
  return { redis_url: testServers().redisUrl, cluster_nodes: t.cluster ? t.clusterNodes : [] };
}

/** A client of the fleet's Redis (server or cluster) for a test's own commands and queue checks. */
export function testRedis(role: RedisRole = 'worker'): Redis {
  return createRedis(testRedisTarget(), role, 'im-test');
}

/** The fleet's settings for the topology under test, as environment variables. */
export function topologyEnv(): Record<string, string> {
  const t = topology();
  return {
    ...(t.cluster ? { REDIS_CLUSTER_NODES: t.clusterNodes.join(',') } : {}),
    ...(t.shards > 1 ? { IM_QUEUE_SHARDS: String(t.shards) } : {}),
    ...(t.pubsub === 'sharded' ? { IM_QUEUE_PUBSUB: 'sharded' } : {}),
  };
}

export const TEST_TOKEN = 'test-token-0123456789abcdef';

/** A random id prefix so that tests sharing one Redis never see each other's users or channels. */
export function randomUserBase(): bigint {
  // Above 2^53 on purpose: every test exercises ids that a JS number cannot hold.
  return (1n << 53n) + BigInt(randomBytes(5).readUIntBE(0, 5)) * 1000n;
}

export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}
