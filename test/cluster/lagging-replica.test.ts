import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { calculateSlot, closeRedis, createRedis, mgetAny, waitForReady, waitForReplicas, type Redis } from '@im/redis';
import { uniqueName } from '../support/env';
import { LaggingCluster, type LaggingNode } from '../support/lagging-cluster';

/** Reads keys on a replica itself (READONLY), past the cluster's redirections. */
function readOnReplica(node: LaggingNode, keys: string[]): Promise<(string | null)[]> {
  return node.with(async (r) => {
    await r.readonly();
    return r.mget(keys);
  });
}

/**
 * The support the fault tests use to lose acknowledged-by-the-primary writes for real: a private
 * Redis Cluster whose primaries sit behind proxies that can hold the replication stream. A write
 * held there reaches the primary but not its replica (WAIT says so); when the primary is killed,
 * the replica promoted in its place lacks it, and the dead node, back, follows the new primary.
 * A client given the seed addresses, built as the fleet builds it, goes on through the failover.
 */
describe('a Redis Cluster primary whose replica lags for real', () => {
  let cluster: LaggingCluster;
  /** As ingest connects: fails fast, no offline queue. */
  let producer: Redis;
  /** As a worker connects: waits for the cluster as long as it takes. */
  let worker: Redis;
  const target = () => ({ redis_url: 'redis://127.0.0.1', cluster_nodes: cluster.addresses });
  const keys = (tag: string, kind: string) => Array.from({ length: 20 }, (_, i) => `${tag}:${kind}:${i}`);
  const values = (list: string[]) => list.map((k) => `v:${k}`);
  const setAll = async (redis: Redis, list: string[]) => {
    for (const k of list) assert.equal(await redis.set(k, `v:${k}`), 'OK');
  };

  before(async () => {
    cluster = await new LaggingCluster().start();
    producer = createRedis(target(), 'producer', 'im-test-lag-producer');
    worker = createRedis(target(), 'worker', 'im-test-lag-worker');
    await Promise.all([waitForReady(producer, 15_000), waitForReady(worker, 15_000)]);
  });

  after(async () => {
    if (producer) await closeRedis(producer);
    if (worker) await closeRedis(worker);
    await cluster?.stop();
  });

  it('announces the proxies: every node is known by its proxy\'s address, every replica streams through its primary\'s proxy', async () => {
    const byPort = new Map(cluster.nodes.map((n) => [n.proxy.port, n]));
    const nodes = String(await producer.cluster('NODES')).split('\n').filter(Boolean);
    assert.equal(nodes.length, 6);
    for (const line of nodes) {
      const port = Number(line.split(' ')[1]!.split('@')[0]!.split(':')[1]);
      assert.ok(byPort.has(port), `${line}: a proxy's port`);
    }
    const slots = (await producer.cluster('SLOTS')) as unknown as [number, number, [string, number, string]][];
    assert.equal(slots.length, 3);
    for (const [, , [, port]] of slots) {
      const primary = byPort.get(port)!;
      assert.equal(primary.proxy.replicationLinks, 1, `${primary.name}: its replica streams through its proxy`);
      const [replica, ...more] = await cluster.replicasOf(primary);
      assert.equal(more.length, 0);
      assert.equal((await replica!.role()).primaryPort, primary.proxy.port, `${replica!.name} follows ${primary.name} at its proxy`);
    }
  });

  it('holds a primary\'s replication stream: WAIT gets no replica until it is released', async () => {
    const tag = `{${uniqueName('lag-release')}}`;
    const primary = await cluster.primaryOf(calculateSlot(tag));
    const [replica] = await cluster.replicasOf(primary);
    assert.ok(replica, 'the primary has a replica');
    const list = keys(tag, 'k');

    cluster.holdReplication(primary);
    await setAll(producer, list);
    assert.equal(await waitForReplicas(producer, list.at(-1)!, 1, 300), 0, 'no replica acknowledged the writes held');
    assert.ok(primary.proxy.heldBytes > 0, 'the proxy holds the stream');
    assert.deepEqual(await readOnReplica(replica, list), list.map(() => null), 'the replica has none of them');

    cluster.releaseReplication(primary);
    assert.equal(await waitForReplicas(producer, list.at(-1)!, 1, 10_000), 1, 'the replica acknowledges them once released');
    assert.equal(primary.proxy.heldBytes, 0);
    assert.deepEqual(await readOnReplica(replica, list), values(list));
  });

  it('kills the primary while held: the promoted replica lacks the held writes, clients go on, the dead node rejoins as a replica', async (t) => {
    const tag = `{${uniqueName('lag-kill')}}`;
    const slot = calculateSlot(tag);
    const acked = keys(tag, 'acked');
    const held = keys(tag, 'held');
    const primary = await cluster.primaryOf(slot);
    const replicas = await cluster.replicasOf(primary);
    assert.equal(replicas.length, 1, 'one replica per primary');
    const replica = replicas[0]!;

    // Through the clients the fleet builds, from the seed addresses: the proxies.
    await setAll(producer, acked);
    assert.equal(await waitForReplicas(producer, acked.at(-1)!, 1, 10_000), 1, 'the replica acknowledges the first writes');
    assert.equal(await worker.get(acked[0]!), values(acked)[0]);

    cluster.holdReplication(primary);
    await setAll(producer, held);
    assert.equal(await waitForReplicas(producer, held.at(-1)!, 1, 300), 0, 'no replica acknowledged the writes held');
    assert.deepEqual(await primary.with((r) => r.mget(held)), values(held), 'the primary has the writes held');
    assert.deepEqual(await readOnReplica(replica, held), held.map(() => null), 'its replica has none of them');
    const heldBytes = primary.proxy.heldBytes;
    assert.ok(heldBytes > 0, 'the proxy holds the stream');

    const promoted = await cluster.killPrimary(primary);
    assert.equal(promoted, replica, 'the replica took over');
    assert.equal((await promoted.role()).role, 'master');
    assert.equal(await cluster.primaryOf(slot), promoted);
    assert.equal(primary.running, false);
    assert.deepEqual(await promoted.with((r) => r.mget(acked)), values(acked), 'the new primary has what its replica acknowledged');
    assert.deepEqual(await promoted.with((r) => r.mget(held)), held.map(() => null), 'and none of the writes held');

    // The same clients, built before the failover, reach the new primary: MOVED and the dead
    // node's closed port make them learn the slots again.
    assert.deepEqual(await mgetAny(worker, [...acked, ...held]), [...values(acked), ...held.map(() => null)]);
    assert.deepEqual(await mgetAny(producer, acked), values(acked));
    assert.equal(await producer.set(`${tag}:after`, 'after'), 'OK');
    assert.equal(await worker.get(`${tag}:after`), 'after');

    await cluster.restart(primary);
    const role = await primary.role();
    assert.equal(role.role, 'slave', 'the dead node came back as a replica');
    assert.equal(role.primaryPort, promoted.proxy.port, 'of the node that took over, through its proxy');
    assert.equal(role.link, 'connected');
    assert.deepEqual(await cluster.replicasOf(promoted), [primary]);
    for (const n of cluster.nodes) assert.match(String(await n.with((r) => r.cluster('INFO'))), /cluster_state:ok/, `${n.name}: cluster state ok`);
    assert.deepEqual(await readOnReplica(primary, held), held.map(() => null), 'the held writes are gone from the node that had them');
    assert.deepEqual(await readOnReplica(primary, acked), values(acked));
    assert.equal(await producer.get(`${tag}:after`), 'after');
    assert.equal(await waitForReplicas(producer, `${tag}:after`, 1, 10_000), 1, 'the new primary has a replica again');
    t.diagnostic(`${heldBytes} bytes of replication stream held and dropped with the primary; ${replica.name} promoted, ${primary.name} back as its replica`);
  });
});
