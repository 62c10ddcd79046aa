import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, safeErrorCopy, safeMessage, serializeError } from './index';

/** Errors shaped as mysql2 and ioredis make them (the fields they attach, with data in them). */
function mysqlError(code: string, message: string): Error {
  return Object.assign(new Error(message), {
    code,
    errno: 1062,
    sqlState: '23000',
    sqlMessage: message,
    sql: "INSERT INTO message_history VALUES ('1', 'secret text')",
    parameters: ['secret text'],
  });
}

function redisError(): Error {
  const err = new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
  err.name = 'ReplyError';
  return Object.assign(err, { command: { name: 'evalsha', args: ['sha', '{"content":"secret text"}'] } });
}

describe('serializeError', () => {
  it('keeps type, code, errno, sqlState and stack frames; drops sql, parameters and sqlMessage', () => {
    const s = serializeError(mysqlError('ER_SIGNAL_EXCEPTION', 'refused by a trigger'));
    assert.equal(s.type, 'Error');
    assert.equal(s.code, 'ER_SIGNAL_EXCEPTION');
    assert.equal(s.errno, 1062);
    assert.equal(s.sqlState, '23000');
    assert.equal(s.message, 'refused by a trigger');
    assert.match(s.stack!, /^Error: refused by a trigger\n\s+at /);
    assert.doesNotMatch(JSON.stringify(s), /secret text/);
  });

  it('drops the command and its arguments of a Redis reply error', () => {
    const s = serializeError(redisError());
    assert.equal(s.type, 'ReplyError');
    assert.match(s.message, /^WRONGTYPE/);
    assert.doesNotMatch(JSON.stringify(s), /secret|evalsha/);
  });

  it('redacts the values a server quotes back, keeps quoted names', () => {
    assert.equal(safeMessage("Duplicate entry 'hello' for key 'PRIMARY'", 'ER_DUP_ENTRY'), "Duplicate entry '[redacted]' for key '[redacted]'");
    assert.equal(safeMessage("Incorrect string value: '\\xF0\\x9F' for column 'content' at row 1", 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD'), "Incorrect string value: '[redacted]' for column '[redacted]' at row 1");
    assert.equal(safeMessage("Table 'im.message_history' doesn't exist", 'ER_NO_SUCH_TABLE'), "Table 'im.message_history' doesn't exist");
    assert.equal(safeMessage("You have an error near 'secret words' at line 1", 'ER_PARSE_ERROR'), "You have an error near '[redacted]' at line 1");
    assert.equal(safeMessage("unknown thing 'two words here'"), "unknown thing '[redacted]'");
    assert.equal(safeMessage('x'.repeat(900)).length, 503);
  });

  it('reduces the cause chain the same way', () => {
    const top = new Error('internal error', { cause: mysqlError('ER_DUP_ENTRY', "Duplicate entry 'secret text' for key 'PRIMARY'") });
    const s = serializeError(top);
    assert.equal(s.cause?.code, 'ER_DUP_ENTRY');
    assert.doesNotMatch(JSON.stringify(s), /secret/);
  });

  it('a safe copy keeps name and code for retry decisions, and nothing else', () => {
    const copy = safeErrorCopy(redisError()) as Error & { code?: unknown; command?: unknown };
    assert.equal(copy.name, 'ReplyError');
    assert.equal(copy.command, undefined);
    const unrecoverable = new Error('bad job');
    unrecoverable.name = 'UnrecoverableError';
    assert.equal(safeErrorCopy(unrecoverable).name, 'UnrecoverableError');
  });

  it('is what the logger applies to err and error at every level', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _e, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger('test', 'trace', sink);
    log.trace({ err: mysqlError('ER_DUP_ENTRY', "Duplicate entry 'secret text' for key 'PRIMARY'") }, 'one');
    log.error({ error: redisError() }, 'two');
    log.warn(redisError(), 'three');
    log.info({ content: 'secret text' }, 'four');
    assert.equal(lines.length, 4);
    for (const l of lines) assert.doesNotMatch(l, /secret/);
    assert.match(lines[0]!, /ER_DUP_ENTRY/);
    assert.match(lines[2]!, /WRONGTYPE/);
  });
});
