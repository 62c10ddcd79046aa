import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@im/errors';
import { judgeFailure } from './failure-policy';
import { retryDelay } from './worker';

describe('retryDelay (unit)', () => {
  it('waits at least what a Retry-After asked for, and the backoff when that is longer', () => {
    const err = judgeFailure(new AppError('UNAVAILABLE', 'provider said 429', { reason: 'DEPENDENCY_UNAVAILABLE', retryAfterS: 7 })).error;
    assert.equal(retryDelay(200, err), 7000, 'the copy the worker keeps still carries it');
    assert.equal(retryDelay(9000, err), 9000);
  });

  it('is the backoff for errors that say nothing', () => {
    assert.equal(retryDelay(200, judgeFailure(new AppError('UNAVAILABLE', 'down', { reason: 'DEPENDENCY_UNAVAILABLE' })).error), 200);
    assert.equal(retryDelay(200, new Error('x')), 200);
    assert.equal(retryDelay(200, undefined), 200);
  });
});
