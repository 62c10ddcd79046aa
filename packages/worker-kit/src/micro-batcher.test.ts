import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MicroBatcher } from './micro-batcher';

/** A flush that records every batch it gets and answers each item with a function of it. */
function recordingFlush<T, R>(map: (item: T) => R, delayMs = 0) {
  const batches: T[][] = [];
  const flush = async (items: T[]): Promise<R[]> => {
    batches.push([...items]);
    if (delayMs > 0) await sleep(delayMs);
    return items.map(map);
  };
  return { batches, flush };
}

describe('MicroBatcher', () => {
  it('flushes items added in the same tick as one batch, each caller getting its own result', async () => {
    const { batches, flush } = recordingFlush((n: number) => n * 10);
    const b = new MicroBatcher(flush, { maxItems: 100, maxWaitMs: 5 });
    const results = await Promise.all([b.add(1), b.add(2), b.add(3), b.add(4)]);
    assert.deepEqual(results, [10, 20, 30, 40]);
    assert.deepEqual(batches, [[1, 2, 3, 4]]);
  });

  it('addMany returns the results in the order of the items', async () => {
    const { batches, flush } = recordingFlush((s: string) => s.toUpperCase());
    const b = new MicroBatcher(flush, { maxItems: 100, maxWaitMs: 5 });
    assert.deepEqual(await b.addMany(['a', 'b', 'c']), ['A', 'B', 'C']);
    assert.equal(batches.length, 1);
  });

  it('never hands flush more than maxItems (25 items, maxItems 10 -> 10, 10, 5)', async () => {
    const { batches, flush } = recordingFlush((n: number) => n + 1000);
    const b = new MicroBatcher(flush, { maxItems: 10, maxWaitMs: 5 });
    const items = Array.from({ length: 25 }, (_, i) => i);
    const results = await Promise.all(items.map((i) => b.add(i)));
    assert.deepEqual(results, items.map((i) => i + 1000));
    assert.deepEqual(
      batches.map((x) => x.length),
      [10, 10, 5],
    );
    assert.deepEqual(batches.flat(), items, 'every item flushed once, in order');
  });

  it('keeps batches within maxItems even when flushes are the bottleneck', async () => {
    const { batches, flush } = recordingFlush((n: number) => n, 20);
    const b = new MicroBatcher(flush, { maxItems: 10, maxWaitMs: 1, maxInFlight: 1 });
    const items = Array.from({ length: 35 }, (_, i) => i);
    const results = await Promise.all(items.map((i) => b.add(i)));
    assert.deepEqual(results, items);
    for (const batch of batches) assert.ok(batch.length >= 1 && batch.length <= 10, `batch of ${batch.length}`);
    assert.deepEqual(batches.flat(), items);
  });

  it('flushes a lone item after about maxWaitMs, not waiting for a full batch', async () => {
    const { batches, flush } = recordingFlush((n: number) => n);
    const b = new MicroBatcher(flush, { maxItems: 1000, maxWaitMs: 5 });
    const started = performance.now();
    assert.equal(await b.add(7), 7);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000, `a single item took ${elapsed} ms`);
    assert.deepEqual(batches, [[7]]);
  });

  it('a flush that throws rejects every caller of that batch, but not of later batches', async () => {
    let calls = 0;
    const b = new MicroBatcher<number, number>(
      async (items) => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return items.map((n) => -n);
      },
      { maxItems: 3, maxWaitMs: 5, maxInFlight: 1 },
    );
    const first = [b.add(1), b.add(2), b.add(3)].map((p) => p.then((v) => ({ ok: true, v }), (e: Error) => ({ ok: false, v: e.message })));
    const second = [b.add(4), b.add(5)];
    assert.deepEqual(await Promise.all(first), [
      { ok: false, v: 'boom' },
      { ok: false, v: 'boom' },
      { ok: false, v: 'boom' },
    ]);
    assert.deepEqual(await Promise.all(second), [-4, -5]);
    assert.equal(calls, 2);
  });

  it('rejects every caller when flush returns the wrong number of results', async () => {
    const b = new MicroBatcher<number, number>(async (items) => items.slice(1), { maxItems: 10, maxWaitMs: 5 });
    const settled = await Promise.allSettled([b.add(1), b.add(2), b.add(3)]);
    assert.equal(settled.length, 3);
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      assert.match(String((s as PromiseRejectedResult).reason), /2 results for 3 items/);
    }
  });

  it('rejects when flush returns too many results', async () => {
    const b = new MicroBatcher<number, number>(async (items) => [...items, 99], { maxItems: 10, maxWaitMs: 5 });
    await assert.rejects(b.add(1), /2 results for 1 items/);
  });

  it('with maxInFlight 1, items arriving during a slow flush gather into the next batch', async () => {
    const { batches, flush } = recordingFlush((n: number) => n * 2, 50);
    const b = new MicroBatcher(flush, { maxItems: 100, maxWaitMs: 1, maxInFlight: 1 });
    const first = b.add(0);
    // wait until the first flush has started and is still running
    while (batches.length === 0) await sleep(1);
    const more = [1, 2, 3, 4, 5].map((i) => b.add(i));
    assert.equal(batches.length, 1, 'the later items wait while the only flush slot is busy');
    assert.equal(b.size, 5);
    const results = await Promise.all([first, ...more]);
    assert.deepEqual(results, [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(batches, [[0], [1, 2, 3, 4, 5]]);
  });

  it('runs up to maxInFlight flushes at once', async () => {
    let running = 0;
    let peak = 0;
    const b = new MicroBatcher<number, number>(
      async (items) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(20);
        running--;
        return items;
      },
      { maxItems: 2, maxWaitMs: 1, maxInFlight: 2 },
    );
    await Promise.all(Array.from({ length: 12 }, (_, i) => b.add(i)));
    assert.equal(peak, 2);
  });

  it('drain() resolves after pending items are flushed', async () => {
    const { batches, flush } = recordingFlush((n: number) => n, 10);
    const b = new MicroBatcher(flush, { maxItems: 100, maxWaitMs: 10_000 });
    const resolved: number[] = [];
    const adds = [1, 2, 3].map((i) => b.add(i).then((r) => resolved.push(r)));
    assert.equal(b.size, 3);
    await b.drain();
    assert.deepEqual(batches, [[1, 2, 3]], 'drain flushed without waiting for maxWaitMs');
    assert.deepEqual(resolved.sort(), [1, 2, 3], 'every caller has its result when drain resolves');
    assert.equal(b.size, 0);
    await Promise.all(adds);
  });

  it('drain() waits for a flush already running', async () => {
    let finished = false;
    const b = new MicroBatcher<number, number>(
      async (items) => {
        await sleep(30);
        finished = true;
        return items;
      },
      { maxItems: 1, maxWaitMs: 1 },
    );
    const p = b.add(1);
    assert.equal(b.size, 0, 'a full batch is handed to flush at once');
    await b.drain();
    assert.equal(finished, true);
    assert.equal(await p, 1);
  });

  it('drain() resolves at once when nothing is pending', async () => {
    const { batches, flush } = recordingFlush((n: number) => n);
    const b = new MicroBatcher(flush, { maxItems: 10, maxWaitMs: 5 });
    await b.drain();
    assert.deepEqual(batches, []);
  });

  it('leaves items settled without a batch out of it: they get their result, and live ones fill the batch', async () => {
    const { batches, flush } = recordingFlush((n: number) => n * 10, 20);
    const dead = new Set([2, 3, 4]);
    const b = new MicroBatcher(flush, { maxItems: 2, maxWaitMs: 5, maxInFlight: 1, settledWithout: (n: number) => (dead.has(n) ? -n : undefined) });
    // 0 and 1 fill the first batch; the rest wait behind its flush, and 2-4 die meanwhile.
    const results = await b.addMany([0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(results, [0, 10, -2, -3, -4, 50, 60]);
    assert.deepEqual(batches, [[0, 1], [5, 6]], 'dead items take no place: the second batch is 5 and 6, not 2 and 3');
  });

  it('drain() resolves when every pending item was settled without a batch', async () => {
    const { batches, flush } = recordingFlush((n: number) => n);
    const b = new MicroBatcher(flush, { maxItems: 10, maxWaitMs: 1000, settledWithout: () => 0 });
    const adds = b.addMany([1, 2]);
    await b.drain();
    assert.deepEqual(await adds, [0, 0]);
    assert.deepEqual(batches, []);
  });
});
