import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inBoth } from './groups.route';

/** An array that counts how many of its elements are read. */
function counted(ids: string[]): { list: string[]; reads: () => number } {
  let reads = 0;
  const list = new Proxy(ids, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) reads++;
      return Reflect.get(target, prop, receiver);
    },
  });
  return { list, reads: () => reads };
}

describe('a member change with the same user in add and remove', () => {
  it('finds the user in both lists', () => {
    assert.equal(inBoth(['1', '2', '3'], ['5', '3']), '3');
    assert.equal(inBoth(['1', '2'], ['3']), undefined);
    assert.equal(inBoth([], ['3']), undefined);
  });

  it('reads each id a bounded number of times, not every pair (10,000 adds and 10,000 removes are 10^8 pairs)', () => {
    const n = 2000;
    const add = counted(Array.from({ length: n }, (_, i) => String(i + 1)));
    const remove = counted(Array.from({ length: n }, (_, i) => String(n + i + 1)));
    assert.equal(inBoth(add.list, remove.list), undefined);
    const reads = add.reads() + remove.reads();
    assert.ok(reads <= 4 * 2 * n, `${reads} element reads for ${n} + ${n} ids`);
  });
});
