import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { calculateSlot, createRedis, groupMembersCache, keys, mgetAny, presence, topology, unackedTracker, waitForReady, type Redis } from '@im/redis';
import { openShards } from '@im/worker-kit';
import { admissionLedger } from '../../apps/ingest-api/src/send/admission';
import { randomUserBase, testServers, uniqueName } from '../support/env';

const nodes = (process.env.TEST_REDIS_CLUSTER_NODES ?? '').split(',').filter(Boolean);

/**
 * Every multi-key script, transaction and command of the fleet touches one slot: on Redis Cluster
 * a call across slots fails (CROSSSLOT, or ioredis refuses it). Each is run here on the local
 * cluster with inputs spread over many slots and shards.
 */
describe('one slot per call on Redis Cluster', { skip: nodes.length === 0 ? 'no Redis Cluster (npm test starts one)' : false }, () => {
  let redis: Redis;
  const base = randomUserBase();
  const users = Array.from({ length: 300 }, (_, i) => String(base + BigInt(i + 1)));

  before(async () => {
    // The connection ingest uses (no offline queue, auto-pipelining as configured).
    redis = createRedis({ redis_url: testServers().redisUrl, cluster_nodes: nodes }, 'producer', 'im-test-slots');
    await waitForReady(redis);
  });
  after(() => redis?.disconnect());

  it('keeps each shard in one slot of its own: its queues and its admission, hot-history and lease keys together', () => {
    const topo = topology({ prefix: '{im}', shards: 3 });
    const slots = new Set<number>();
    for (const s of topo.all) {
      const own = new Set(
        [
          s.queueKey('im.persist', 'wait'),
          s.queueKey('im.deliver', 'meta'),
          s.queueKey('im.fanout', 'b1'),
          s.keys.seqEpoch,
          s.keys.seqNode,
          s.keys.seq('s:1:2'),
          s.keys.dedupe('1', 'c'),
          s.keys.rate('1', 5),
          s.keys.hot('g:1'),
          s.keys.consumer('im.persist'),
          s.keys.generation,
        ].map(calculateSlot),
      );
      assert.equal(own.size, 1, `shard ${s.index}'s keys share one slot`);
      slots.add([...own][0]!);
    }
    assert.equal(slots.size, topo.shards, 'each shard in a slot of its own');
    assert.equal(calculateSlot(topo.recordKey), calculateSlot(topo.shard(0).queueKey('im.persist', 'wait')), "the deployment's record is in shard 0's slot");
  });

  it('admits a batch of each shard (seq, dedupe, rate) in one call, and confirms and releases its records', async () => {
    const ledger = admissionLedger(redis, 1000, () => 1);
    const topo = topology({ prefix: `{${uniqueName('imt')}}`, shards: 3 });
    await openShards(redis, topo, 1, true);
    const conversations = users.slice(0, 90).map((u, i) => `s:${u}:${users[(i + 1) % users.length]}`);
    for (const shard of topo.all) {
      const mine = conversations.filter((c) => topo.of(c) === shard);
      assert.ok(mine.length > 5, `shard ${shard.index} has conversations`);
      const items = mine.map((conversation, i) => ({ conversation, sender_id: users[i]!, client_msg_id: `slots-${uniqueName('c')}`, message_id: String(base + 10_000n + BigInt(i)), created_at: Date.now() }));
      const jobId = `b${uniqueName('slots')}`;
      const seeds = new Map(mine.map((c) => [c, 0]));
      const { results } = await ledger.admit(shard, items, jobId, seeds);
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set(['ok']));
      const accepted = items.map((m, i) => ({ ...m, seq: (results[i] as { seq: number }).seq }));
      assert.equal(await ledger.confirm(shard, jobId, accepted.slice(0, 5)), 5);
      assert.equal(await ledger.release(shard, jobId, accepted.slice(5)), accepted.length - 5);
    }
  });

  it('looks up presence and tombstones of users on many slots (one MGET per slot)', async () => {
    await Promise.all(users.slice(0, 100).map((u) => redis.set(keys.presence(u), 'gw-slots', 'EX', 60)));
    const online = await presence(redis).lookup(users);
    assert.equal(online.size, 100);
    const values = await mgetAny(redis, users.map((u) => keys.recalled(u)));
    assert.equal(values.length, users.length);
    assert.ok(values.every((v) => v === null));
  });

  it('tracks, claims and clears unacknowledged publishes (one key under the queue prefix)', async () => {
    const unacked = unackedTracker(redis, 1, `{${uniqueName('imt')}}`);
    const items = users.slice(0, 50).map((u) => ({ user_id: u, device_id: 'default', message_id: String(base + 1n) }));
    await unacked.track(items, Date.now() - 5000);
    const due = await unacked.claimDue(Date.now(), 1000);
    assert.equal(due.length, 50);
    await unacked.done(due);
    assert.equal((await unacked.claimDue(Date.now() + 120_000, 1000)).length, 0);
  });

  it('caches a group member list in a transaction on one key, and checks a member', async () => {
    const group = String(base + 99n);
    const cache = groupMembersCache(redis, async () => users.slice(0, 200));
    assert.equal((await cache.members(group)).length, 200);
    assert.equal(await cache.isMember(group, users[10]!), true);
    await cache.invalidate(group);
    assert.equal(await cache.isMember(group, users[250]!), false);
  });
});
