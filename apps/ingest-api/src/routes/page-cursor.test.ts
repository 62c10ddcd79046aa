import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@im/errors';
import { decodeCursor, encodeCursor } from './page-cursor';

const refused = (f: () => unknown, why: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof AppError && e.code === 'INVALID_ARGUMENT' && e.reason === 'INVALID_CURSOR' && why.test(e.message));

describe('page cursors', () => {
  const user = '9007199254740993';

  it('give back the position they were made of, for the list and scope they were made for', () => {
    const c = encodeCursor('conversations', [user], [1_700_000_000_123, 'g:42']);
    assert.match(c, /^[A-Za-z0-9_-]+$/, 'URL-safe as it is');
    assert.deepEqual(decodeCursor('conversations', [user], c), [1_700_000_000_123, 'g:42']);
    const s = encodeCursor('search', [user, 'hi', '', ''], [5, '9223372036854775807']);
    assert.deepEqual(decodeCursor('search', [user, 'hi', '', ''], s), [5, '9223372036854775807']);
    assert.deepEqual(decodeCursor('members', ['7'], encodeCursor('members', ['7'], ['9007199254740995'])), ['9007199254740995']);
    assert.equal(decodeCursor('members', ['7'], null), null, 'no cursor: the first page');
  });

  it("refuse another list's cursor, and one issued for another user, group or query", () => {
    const c = encodeCursor('conversations', [user], [1, 's:1:2']);
    refused(() => decodeCursor('search', [user, 'hi', '', ''], c), /another list/);
    refused(() => decodeCursor('conversations', ['9007199254740994'], c), /another user, group or query/);
    const s = encodeCursor('search', [user, 'hi', '', ''], [5, '12']);
    refused(() => decodeCursor('search', [user, 'ho', '', ''], s), /another user, group or query/);
    refused(() => decodeCursor('search', [user, 'hi', '0', ''], s), /another user, group or query/);
  });

  it('refuse what is not a cursor of ours', () => {
    const json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const scope = [user];
    const own = (p: unknown) => {
      // The right list and scope around a position that is not one.
      const good = JSON.parse(Buffer.from(encodeCursor('conversations', scope, [1, 's:1:2']), 'base64url').toString());
      return json({ ...good, p });
    };
    for (const bad of ['not a cursor!', 'a'.repeat(513), 'e30', '%%%', json('x'), json(null), json({ v: 2, l: 'conversations', s: 'x', p: [] }), Buffer.from('{"v":1').toString('base64url')]) {
      refused(() => decodeCursor('conversations', scope, bad), /malformed/);
    }
    for (const p of [[], [1], [-1, 's:1:2'], [1.5, 's:1:2'], ['1', 's:1:2'], [1, 'x:1'], [1, 's:1:2', 3], [1, "s:1:2' OR 1=1"]]) {
      refused(() => decodeCursor('conversations', scope, own(p)), /malformed/);
    }
    const m = (p: unknown) => json({ ...JSON.parse(Buffer.from(encodeCursor('members', ['7'], ['1']), 'base64url').toString()), p });
    for (const p of [['0'], ['01'], ['9223372036854775808'], [7], ['1', '2']]) refused(() => decodeCursor('members', ['7'], m(p)), /malformed/);
  });
});
