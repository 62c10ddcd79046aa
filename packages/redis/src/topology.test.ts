import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import calculateSlot from 'cluster-key-slot';
import { shardIndexOf, topology } from './topology';

describe('topology', () => {
  it('keeps one shard under the configured prefix, with the names of a fleet that never sharded', () => {
    const s = topology({ prefix: '{im}', shards: 1 }).shard(0);
    assert.equal(s.queuePrefix, '{im}');
    assert.equal(s.tag, 'im');
    assert.equal(s.label('im.persist'), 'im.persist');
    assert.equal(s.queueKey('im.persist', 'meta'), '{im}:im.persist:meta');
    assert.equal(s.keys.seq('s:1:2'), 'im:{im}:seq:s:1:2');
  });

  it('puts shard k in a hash tag of its own, shared by its queues and its admission keys', () => {
    const t = topology({ prefix: '{im}', shards: 4 });
    const s = t.shard(3);
    assert.equal(s.queuePrefix, '{im.s3}');
    assert.equal(s.label('im.deliver'), 'im.deliver.s3');
    assert.equal(s.label('im.cleaner'), 'im.cleaner', 'the cleaner queue is one for the fleet');
    assert.equal(s.keys.dedupe('7', 'c-1'), 'im:{im.s3}:dedupe:7:c-1');
    assert.equal(new Set([s.queueKey('im.persist', 'wait'), s.keys.seq('g:9'), s.keys.seqEpoch, s.keys.rate('7', 1), s.keys.hot('g:9')].map(calculateSlot)).size, 1);
    assert.equal(new Set(t.all.map((x) => calculateSlot(x.keys.seqEpoch))).size, 4, 'four shards, four slots');
  });

  it('keeps the text around the tag of a prefix', () => {
    assert.equal(topology({ prefix: 'app{im}x', shards: 2 }).shard(1).queuePrefix, 'app{im.s1}x');
  });

  it('uses the whole prefix as the tag of a prefix without one (one server only)', () => {
    const s = topology({ prefix: 'imq', shards: 2 }).shard(1);
    assert.equal(s.queuePrefix, 'imq.s1');
    assert.equal(s.keys.seq('s:1:2'), 'im:{imq.s1}:seq:s:1:2');
  });

  it("routes a conversation to the same shard in every process, and spreads conversations over all shards", () => {
    const t = topology({ prefix: '{im}', shards: 8 });
    assert.equal(shardIndexOf('s:1:2', 8), shardIndexOf('s:1:2', 8));
    assert.equal(t.of('g:42'), t.shard(shardIndexOf('g:42', 8)));
    const used = new Set(Array.from({ length: 400 }, (_, i) => t.of(`g:${i}`).index));
    assert.equal(used.size, 8);
    assert.equal(topology({ prefix: '{im}', shards: 1 }).of('g:42').index, 0);
  });

  it('gives a worker the shards it consumes, in order, without repeats', () => {
    const t = topology({ prefix: '{im}', shards: 4 });
    assert.deepEqual(t.consumed().map((s) => s.index), [0, 1, 2, 3]);
    assert.deepEqual(t.consumed(['3', '1', '3']).map((s) => s.index), [1, 3]);
    assert.throws(() => t.consumed(['4']), /no shard 4 among 4/);
  });

  it('refuses a shard count that is not a positive integer', () => {
    assert.throws(() => topology({ prefix: '{im}', shards: 0 }), /positive integer/);
    assert.throws(() => topology({ prefix: '{im}', shards: 1.5 }), /positive integer/);
  });
});
