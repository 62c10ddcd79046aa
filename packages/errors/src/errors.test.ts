import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AppError,
  DEFAULT_RETRY_AFTER_S,
  ERROR_CODES,
  ERROR_REASONS,
  invalidArgument,
  isDataFault,
  isJobFault,
  isUnavailableError,
  notFound,
  permissionDenied,
  toAppError,
  unavailable,
  type ErrorCode,
} from './index';

describe('AppError', () => {
  it('INVALID_ARGUMENT is 400 and not retryable', () => {
    const e = new AppError('INVALID_ARGUMENT', 'bad field', { reason: 'INVALID_FIELD' });
    assert.equal(e.status, 400);
    assert.equal(e.retryable, false);
  });

  it('UNAVAILABLE is 503 and retryable', () => {
    const e = new AppError('UNAVAILABLE', 'down', { reason: 'OVERLOADED' });
    assert.equal(e.status, 503);
    assert.equal(e.retryable, true);
  });

  it('RESOURCE_EXHAUSTED is 429 and carries retryAfterS', () => {
    const e = new AppError('RESOURCE_EXHAUSTED', 'slow down', { reason: 'RATE_LIMITED', retryAfterS: 3 });
    assert.equal(e.status, 429);
    assert.equal(e.retryable, true);
    assert.equal(e.retryAfterS, 3);
  });

  it('maps every code to the status of the contract table', () => {
    const expected: Record<ErrorCode, number> = {
      INVALID_ARGUMENT: 400,
      UNAUTHENTICATED: 401,
      PERMISSION_DENIED: 403,
      NOT_FOUND: 404,
      PAYLOAD_TOO_LARGE: 413,
      RESOURCE_EXHAUSTED: 429,
      UNAVAILABLE: 503,
      INTERNAL: 500,
    };
    assert.deepEqual(Object.keys(ERROR_CODES).sort(), Object.keys(expected).sort());
    for (const [code, status] of Object.entries(expected) as [ErrorCode, number][]) {
      const e = new AppError(code, 'x', { reason: ERROR_REASONS[code][0] });
      assert.equal(e.status, status, code);
      assert.equal(e.retryable, ERROR_CODES[code].retryable, code);
    }
    for (const code of ['UNAUTHENTICATED', 'PERMISSION_DENIED', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE'] as const) {
      assert.equal(new AppError(code, 'x', { reason: ERROR_REASONS[code][0] }).retryable, false, `${code} is not retryable`);
    }
  });

  it('is an Error with name AppError, its message, its code and an optional cause', () => {
    const cause = new Error('root');
    const e = new AppError('NOT_FOUND', 'no such user', { reason: 'UNKNOWN_USER', cause });
    assert.ok(e instanceof Error);
    assert.ok(e instanceof AppError);
    assert.equal(e.name, 'AppError');
    assert.equal(e.message, 'no such user');
    assert.equal(e.code, 'NOT_FOUND');
    assert.equal(e.cause, cause);
    assert.equal(e.retryAfterS, undefined);
    assert.ok(e.stack?.includes('no such user'));
  });

  it('toJSON is exactly { code, reason, message } and retry_after_s on 429 and 503, never the cause', () => {
    const e = new AppError('RESOURCE_EXHAUSTED', 'too many', { reason: 'RATE_LIMITED', retryAfterS: 2, cause: new Error('secret') });
    assert.deepEqual(e.toJSON(), { code: 'RESOURCE_EXHAUSTED', reason: 'RATE_LIMITED', message: 'too many', retry_after_s: 2 });
    assert.deepEqual(JSON.parse(JSON.stringify(e)), { code: 'RESOURCE_EXHAUSTED', reason: 'RATE_LIMITED', message: 'too many', retry_after_s: 2 });
    assert.deepEqual(notFound('UNKNOWN_GROUP', 'no group').toJSON(), { code: 'NOT_FOUND', reason: 'UNKNOWN_GROUP', message: 'no group' });
  });

  it('every 429 and 503 says when to retry (1 s unless it says more); no other code does', () => {
    assert.equal(unavailable('OVERLOADED', 'busy').retryAfterS, DEFAULT_RETRY_AFTER_S);
    assert.equal(unavailable('OVERLOADED', 'busy').toJSON().retry_after_s, 1);
    assert.equal(new AppError('UNAVAILABLE', 'resharding', { reason: 'RESHARDING', retryAfterS: 2 }).retryAfterS, 2);
    assert.equal(new AppError('RESOURCE_EXHAUSTED', 'slow', { reason: 'RATE_LIMITED' }).retryAfterS, 1);
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      if (code === 'UNAVAILABLE' || code === 'RESOURCE_EXHAUSTED') continue;
      const e = new AppError(code, 'x', { reason: ERROR_REASONS[code][0], retryAfterS: 5 });
      assert.equal(e.retryAfterS, undefined, code);
      assert.equal('retry_after_s' in e.toJSON(), false, code);
    }
  });

  it('has reasons for every code, each reason under one code only', () => {
    assert.deepEqual(Object.keys(ERROR_REASONS).sort(), Object.keys(ERROR_CODES).sort());
    const all = Object.values(ERROR_REASONS).flat();
    assert.equal(new Set(all).size, all.length, 'a reason is listed under two codes');
    for (const r of all) assert.match(r, /^[A-Z][A-Z_]*[A-Z]$/);
  });

  it('helpers build the right codes', () => {
    assert.equal(invalidArgument('a').code, 'INVALID_ARGUMENT');
    assert.equal(invalidArgument('a').reason, 'INVALID_FIELD');
    assert.equal(invalidArgument('a', 'INVALID_CURSOR').reason, 'INVALID_CURSOR');
    assert.equal(notFound('UNKNOWN_USER', 'b').code, 'NOT_FOUND');
    assert.equal(permissionDenied('NOT_A_MEMBER', 'c').code, 'PERMISSION_DENIED');
    const cause = new Error('x');
    const u = unavailable('DEPENDENCY_UNAVAILABLE', 'd', cause);
    assert.equal(u.code, 'UNAVAILABLE');
    assert.equal(u.reason, 'DEPENDENCY_UNAVAILABLE');
    assert.equal(u.message, 'd');
    assert.equal(u.cause, cause);
  });
});

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('isJobFault', () => {
  it('is true for contract errors that are not retryable, false for those that are', () => {
    assert.equal(isJobFault(invalidArgument('bad')), true);
    assert.equal(isJobFault(notFound('UNKNOWN_MESSAGE', 'gone')), true);
    assert.equal(isJobFault(unavailable('OVERLOADED', 'later')), false);
    assert.equal(isJobFault(new AppError('INTERNAL', 'bug', { reason: 'INTERNAL_ERROR' })), false);
  });
});

describe('isUnavailableError', () => {
  it('is true for an Error with a connection error code', () => {
    assert.equal(isUnavailableError(withCode('connect failed', 'ECONNREFUSED')), true);
    assert.equal(isUnavailableError(withCode('x', 'ECONNRESET')), true);
    assert.equal(isUnavailableError(withCode('x', 'PROTOCOL_CONNECTION_LOST')), true);
    assert.equal(isUnavailableError(withCode('x', 'ER_LOCK_DEADLOCK')), true);
  });

  it('is true for an Error whose message says the connection is closed', () => {
    assert.equal(isUnavailableError(new Error('Connection is closed.')), true);
    assert.equal(isUnavailableError(new Error("Stream isn't writeable and enableOfflineQueue options is false")), true);
    assert.equal(isUnavailableError(Object.assign(new Error('Command aborted due to connection close'), { name: 'AbortError' })), true);
    assert.equal(isUnavailableError(new Error('Failed to refresh slots cache.')), true);
    assert.equal(isUnavailableError(new Error("Cluster isn't ready and enableOfflineQueue options is false")), true);
  });

  it('is true for an error named MaxRetriesPerRequestError', () => {
    const e = new Error('whatever');
    e.name = 'MaxRetriesPerRequestError';
    assert.equal(isUnavailableError(e), true);
  });

  it('is true for Redis replies that mean "not now": out of memory, loading, read-only, cluster down', () => {
    for (const m of [
      "OOM command not allowed when used memory > 'maxmemory'.",
      'LOADING Redis is loading the dataset in memory',
      "READONLY You can't write against a read only replica.",
      'CLUSTERDOWN The cluster is down',
      'TRYAGAIN Multiple keys request during rehashing of slot',
      'MASTERDOWN Link with MASTER is down',
    ]) {
      assert.equal(isUnavailableError(new Error(m)), true, m);
    }
    assert.equal(isUnavailableError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')), false);
    assert.equal(isUnavailableError(new Error('an OOM somewhere in the text')), false);
  });

  it('is true for every failure of the network, DNS or a database switchover, not only a known few', () => {
    // DNS that does not answer (Kubernetes under load), a route gone, a connection aborted.
    for (const code of ['EAI_AGAIN', 'ENETUNREACH', 'ECONNABORTED', 'EHOSTDOWN', 'ENOTFOUND']) assert.equal(isUnavailableError(withCode(`getaddrinfo ${code} mysql`, code)), true, code);
    // MySQL during a switchover: the old primary is read_only.
    const readOnly = Object.assign(withCode('The MariaDB server is running with the --read-only option so it cannot execute this statement', 'ER_OPTION_PREVENTS_STATEMENT'), { errno: 1290, sqlState: 'HY000' });
    assert.equal(isUnavailableError(readOnly), true);
    assert.equal(isJobFault(readOnly), false);
    assert.equal(isUnavailableError(withCode('x', 'ER_CON_COUNT_ERROR')), true);
  });

  it('is false for data MySQL refuses: that is about the job, and a retry fails the same way', () => {
    const tooLong = Object.assign(withCode("Data too long for column 'content'", 'ER_DATA_TOO_LONG'), { errno: 1406, sqlState: '22001' });
    const duplicate = Object.assign(withCode('Duplicate entry', 'ER_DUP_ENTRY'), { errno: 1062, sqlState: '23000' });
    for (const e of [tooLong, duplicate]) {
      assert.equal(isUnavailableError(e), false, e.message);
      assert.equal(isDataFault(e), true, e.message);
      assert.equal(isJobFault(e), true, e.message);
    }
  });

  it('is false for a statement MySQL cannot run (a bug, a schema not migrated): INTERNAL, though workers retry it', () => {
    const noTable = Object.assign(withCode("Table 'im.message_history' doesn't exist", 'ER_NO_SUCH_TABLE'), { errno: 1146, sqlState: '42S02' });
    assert.equal(isUnavailableError(noTable), false);
    assert.equal(isJobFault(noTable), false);
    assert.equal(toAppError(noTable).code, 'INTERNAL');
  });

  it('is false for a plain Error and for a programming error', () => {
    assert.equal(isUnavailableError(new Error('something broke')), false);
    assert.equal(isUnavailableError(new TypeError('x is undefined')), false);
    assert.equal(isJobFault(new TypeError('x is undefined')), false, 'a bug is not about the job: it retries until fixed');
  });

  it('is false for values that are not Errors', () => {
    assert.equal(isUnavailableError('Connection is closed'), false);
    assert.equal(isUnavailableError(null), false);
    assert.equal(isUnavailableError(undefined), false);
  });

  it('follows the code of an AppError', () => {
    assert.equal(isUnavailableError(unavailable('OVERLOADED', 'x')), true);
    assert.equal(isUnavailableError(new AppError('INTERNAL', 'Connection is closed', { reason: 'INTERNAL_ERROR' })), false);
  });
});

describe('toAppError', () => {
  it('passes an AppError through unchanged (same object)', () => {
    const e = notFound('UNKNOWN_MESSAGE', 'gone');
    assert.equal(toAppError(e), e);
  });

  it('maps a connection error to UNAVAILABLE (503, retryable) keeping the cause', () => {
    const cause = withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED');
    const e = toAppError(cause);
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'UNAVAILABLE');
    assert.equal(e.status, 503);
    assert.equal(e.retryable, true);
    assert.equal(e.reason, 'DEPENDENCY_UNAVAILABLE');
    assert.equal(e.cause, cause);
  });

  it('maps a DNS failure and a read-only database to UNAVAILABLE (503), not INTERNAL', () => {
    assert.equal(toAppError(withCode('getaddrinfo EAI_AGAIN mysql', 'EAI_AGAIN')).code, 'UNAVAILABLE');
    assert.equal(toAppError(withCode('read-only', 'ER_OPTION_PREVENTS_STATEMENT')).code, 'UNAVAILABLE');
  });

  it('maps a "Connection is closed" error to UNAVAILABLE', () => {
    assert.equal(toAppError(new Error('Connection is closed.')).code, 'UNAVAILABLE');
  });

  it('maps anything else to INTERNAL without leaking its message', () => {
    const cause = new Error('secret detail: password=hunter2');
    const e = toAppError(cause);
    assert.equal(e.code, 'INTERNAL');
    assert.equal(e.status, 500);
    assert.equal(e.reason, 'INTERNAL_ERROR');
    assert.equal(e.cause, cause);
    assert.ok(!e.message.includes('hunter2'));
    assert.ok(!JSON.stringify(e).includes('hunter2'));
  });

  it('maps thrown non-Error values to INTERNAL', () => {
    for (const v of ['a string', 42, null, undefined, { message: 'oops' }]) {
      const e = toAppError(v);
      assert.equal(e.code, 'INTERNAL', `value ${JSON.stringify(v)}`);
      assert.equal(e.cause, v);
    }
  });
});
