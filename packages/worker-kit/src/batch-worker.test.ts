import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startedBefore } from './batch-worker';

describe('startedBefore', () => {
  it('is false on a job started for the first time only', () => {
    assert.equal(startedBefore({ attemptsStarted: 1, attemptsMade: 0, stalledCounter: 0 }), false);
  });

  it('is true after a failure, after a stall (which BullMQ does not count as an attempt), or any earlier start', () => {
    assert.equal(startedBefore({ attemptsStarted: 2, attemptsMade: 1, stalledCounter: 0 }), true, 'a retry');
    assert.equal(startedBefore({ attemptsStarted: 2, attemptsMade: 0, stalledCounter: 1 }), true, 'back after a stall');
    assert.equal(startedBefore({ attemptsStarted: 2, attemptsMade: 0, stalledCounter: 0 }), true, 'handed back to the queue');
  });
});
