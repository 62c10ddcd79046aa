import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coalesce } from './coalesce';

describe('coalesce (unit)', () => {
  it('answers each caller with its own keys, and lets callers that come while a query runs share the next one', async () => {
    const queries: string[][] = [];
    let release: () => void = () => {};
    const lookup = async (keys: readonly string[]) => {
      queries.push([...keys]);
      if (queries.length === 1) await new Promise<void>((r) => (release = r));
      return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, k.toUpperCase()]));
    };
    const get = coalesce(lookup, (k: string) => k, 1);
    const first = get(['a']);
    while (queries.length === 0) await new Promise((r) => setTimeout(r, 1));
    // The first query is in flight: these three wait and go together, their shared key once.
    const later = [get(['b', 'c']), get(['c', 'missing']), get(['d'])];
    release();
    assert.deepEqual([...(await first)], [['a', 'A']]);
    // Each caller its own keys; a key the lookup does not find is absent.
    assert.deepEqual(
      (await Promise.all(later)).map((m) => [...m]),
      [
        [['b', 'B'], ['c', 'C']],
        [['c', 'C']],
        [['d', 'D']],
      ],
    );
    assert.deepEqual(queries, [['a'], ['b', 'c', 'missing', 'd']]);
  });

  it('sends no query for no keys, and gives every caller of a failed query its error', async () => {
    let calls = 0;
    const get = coalesce(async () => {
      calls++;
      throw new Error('mysql away');
    }, (k: string) => k);
    assert.deepEqual(await get([]), new Map());
    assert.equal(calls, 0);
    await assert.rejects(get(['x']), /mysql away/);
  });
});
