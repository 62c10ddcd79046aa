import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cappedBackoff } from './worker';

describe('cappedBackoff', () => {
  it('doubles from the base and stops at the cap, however many attempts', () => {
    const exact = () => 1; // no jitter
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 10, 100, 10_000].map((n) => cappedBackoff(n, 200, 5000, exact)),
      [200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000],
    );
  });

  it('spreads retries by up to 20 % below the delay, never above the cap', () => {
    assert.equal(cappedBackoff(50, 200, 5000, () => 0), 4000);
    for (let i = 0; i < 100; i++) {
      const d = cappedBackoff(1 + (i % 12), 200, 5000);
      assert.ok(d >= 160 && d <= 5000, `delay ${d}`);
    }
  });
});
