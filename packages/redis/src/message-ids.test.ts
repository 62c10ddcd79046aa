import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ID_EPOCH_MS, MAX_NODE, idTimestamp } from '@im/contracts';
import { MessageIdGenerator } from './message-ids';

const MAX_ID = (1n << 63n) - 1n;
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0); // a fixed, injected "now"

/** Asserts that every id is a canonical decimal string and strictly greater than the one before. */
function assertStrictlyIncreasing(ids: string[]): void {
  let prev = -1n;
  for (const [i, id] of ids.entries()) {
    assert.match(id, /^[1-9]\d{0,18}$/, `id #${i} is a canonical decimal string`);
    const v = BigInt(id);
    assert.ok(v > prev, `id #${i} (${id}) is greater than the previous one (${prev})`);
    assert.ok(v <= MAX_ID, `id #${i} is below 2^63`);
    prev = v;
  }
}

describe('MessageIdGenerator', () => {
  it('never goes back when the node changes within a millisecond (lease moved to a lower node)', () => {
    const gen = new MessageIdGenerator(900, () => ID_EPOCH_MS + 5000);
    const before = BigInt(gen.next().id);
    gen.setNode(2);
    const after = BigInt(gen.next().id);
    assert.ok(after > before, `${after} should be above ${before}`);
    assert.throws(() => gen.setNode(1024), /node must be/);
  });

  it('issues strictly increasing ids over 10,000 calls with the real clock', () => {
    const gen = new MessageIdGenerator(5);
    const ids = Array.from({ length: 10_000 }, () => gen.next().id);
    assertStrictlyIncreasing(ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('reports the millisecond the id encodes, which idTimestamp recovers', () => {
    const gen = new MessageIdGenerator(17);
    const before = Date.now();
    for (let i = 0; i < 1000; i++) {
      const { id, ms } = gen.next();
      assert.equal(idTimestamp(id), ms);
    }
    const { id, ms } = gen.next();
    assert.ok(ms >= before && ms <= Date.now() + 1, `ms ${ms} is close to the wall clock`);
    assert.equal(idTimestamp(id), ms);
  });

  it('uses the injected clock', () => {
    const gen = new MessageIdGenerator(1, () => T0);
    const { id, ms } = gen.next();
    assert.equal(ms, T0);
    assert.equal(idTimestamp(id), T0);
  });

  it('encodes time, node and sequence in the documented layout', () => {
    const gen = new MessageIdGenerator(3, () => T0);
    const first = BigInt(gen.next().id);
    const second = BigInt(gen.next().id);
    assert.equal(first, (BigInt(T0 - ID_EPOCH_MS) << 22n) | (3n << 12n) | 0n);
    assert.equal(second, first + 1n, 'the sequence counts within one millisecond');
  });

  it('borrows the next millisecond when more than 4096 ids are asked for in one ms', () => {
    const gen = new MessageIdGenerator(9, () => T0);
    const out = Array.from({ length: 10_000 }, () => gen.next());
    assertStrictlyIncreasing(out.map((o) => o.id));
    assert.equal(out[0]!.ms, T0);
    assert.equal(out[4095]!.ms, T0, 'the first 4096 ids fit in the millisecond');
    assert.equal(out[4096]!.ms, T0 + 1, 'id 4097 borrows the next millisecond');
    assert.equal(out[8192]!.ms, T0 + 2);
    for (const o of out) assert.equal(idTimestamp(o.id), o.ms);
  });

  it('keeps ids increasing when the clock steps backwards', () => {
    const times = [T0, T0 + 5, T0 + 5, T0 - 1000, T0 - 999, T0 + 3, T0 + 6, T0 + 6, T0 + 2, T0 + 7];
    let i = 0;
    const gen = new MessageIdGenerator(4, () => times[Math.min(i++, times.length - 1)]!);
    const out = times.map(() => gen.next());
    assertStrictlyIncreasing(out.map((o) => o.id));
    const msSeen = out.map((o) => o.ms);
    for (let k = 1; k < msSeen.length; k++) assert.ok(msSeen[k]! >= msSeen[k - 1]!, 'reported ms never goes back');
    assert.equal(out[3]!.ms, T0 + 5, 'a clock behind the last ms keeps the last ms');
    assert.equal(out[9]!.ms, T0 + 7);
  });

  it('keeps ids increasing while a backwards clock forces many ids into one ms', () => {
    let now = T0 + 10_000;
    const gen = new MessageIdGenerator(2, () => now);
    const ids: string[] = [];
    for (let k = 0; k < 9000; k++) {
      if (k === 100) now = T0; // jump 10 s back and stay there
      ids.push(gen.next().id);
    }
    assertStrictlyIncreasing(ids);
  });

  it('gives different ids to generators with different node numbers at the same time', () => {
    const a = new MessageIdGenerator(1, () => T0);
    const b = new MessageIdGenerator(2, () => T0);
    const idsA = Array.from({ length: 100 }, () => a.next().id);
    const idsB = Array.from({ length: 100 }, () => b.next().id);
    const all = new Set([...idsA, ...idsB]);
    assert.equal(all.size, 200);
    assert.equal(idTimestamp(idsA[0]!), idTimestamp(idsB[0]!));
  });

  it('accepts node 0 and MAX_NODE (1023)', () => {
    assert.equal(MAX_NODE, 1023);
    const lo = new MessageIdGenerator(0, () => T0).next().id;
    const hi = new MessageIdGenerator(MAX_NODE, () => T0).next().id;
    assert.notEqual(lo, hi);
    assert.equal(idTimestamp(lo), T0);
    assert.equal(idTimestamp(hi), T0, 'node 1023 does not spill into the time bits');
  });

  it('rejects a node outside 0..1023', () => {
    for (const node of [-1, 1024, 5000, 1.5, Number.NaN]) {
      assert.throws(() => new MessageIdGenerator(node), /node must be 0\.\.1023/, `node ${node}`);
    }
  });

  it('issues ids below 2^63 even at the end of the 41-bit time range', () => {
    const lastMs = ID_EPOCH_MS + 2 ** 41 - 1;
    const gen = new MessageIdGenerator(MAX_NODE, () => lastMs);
    const { id } = gen.next();
    assert.ok(BigInt(id) <= MAX_ID);
    assert.ok(BigInt(id) > 0n);
    assert.equal(idTimestamp(id), lastMs);
  });
});

describe('idTimestamp', () => {
  it('returns the epoch for the smallest possible id', () => {
    assert.equal(idTimestamp('1'), ID_EPOCH_MS);
  });

  it('ignores node and sequence bits', () => {
    const base = BigInt(T0 - ID_EPOCH_MS) << 22n;
    assert.equal(idTimestamp(base.toString()), T0);
    assert.equal(idTimestamp((base | ((1n << 22n) - 1n)).toString()), T0);
    assert.equal(idTimestamp((base + (1n << 22n)).toString()), T0 + 1);
  });
});
