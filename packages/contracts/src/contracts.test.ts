import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareIds, conversationKeys, conversationOf, pairKey, parseId } from './ids';
import { firstIdAt, ID_EPOCH_MS, idTimestamp } from './message-id-layout';
import { jobSchemas } from './pipeline';
import { codePointLength, describeIssues, fastSendParsers, messageEvent, notificationEvent, recallChannel, recallEvent, sendSchemas, type AcceptedMessage } from './messages';

describe('parseId', () => {
  it('accepts positive decimal strings up to 2^63-1 and returns them unchanged', () => {
    assert.equal(parseId('1'), '1');
    assert.equal(parseId('42'), '42');
    assert.equal(parseId('9223372036854775807'), '9223372036854775807');
  });

  it('accepts a positive safe JSON integer and returns its decimal string', () => {
    assert.equal(parseId(42), '42');
    assert.equal(parseId(1), '1');
    assert.equal(parseId(Number.MAX_SAFE_INTEGER), '9007199254740991');
  });

  it('rejects strings that are not canonical positive decimals below 2^63', () => {
    for (const bad of ['0', '-1', '01', '9223372036854775808', '99999999999999999999', '1e3', ' 1', '1 ', '+1', '1.0', '0x1', '', 'abc']) {
      assert.equal(parseId(bad), undefined, `parseId(${JSON.stringify(bad)})`);
    }
  });

  it('rejects numbers that are not positive safe integers', () => {
    for (const bad of [1.5, 0, -3, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(parseId(bad), undefined, `parseId(${bad})`);
    }
  });

  it('rejects values of other types', () => {
    for (const bad of [null, undefined, true, false, {}, { id: '1' }, ['1'], 1n]) {
      assert.equal(parseId(bad), undefined, `parseId(${typeof bad})`);
    }
  });
});

describe('compareIds', () => {
  it('orders ids of different lengths by numeric value', () => {
    assert.ok(compareIds('9', '10') < 0);
    assert.ok(compareIds('10', '9') > 0);
    assert.ok(compareIds('99', '100') < 0);
    assert.ok(compareIds('1000000000000000000', '999999999999999999') > 0);
  });

  it('orders ids of the same length by numeric value and reports equality', () => {
    assert.ok(compareIds('123', '124') < 0);
    assert.ok(compareIds('124', '123') > 0);
    assert.equal(compareIds('9223372036854775807', '9223372036854775807'), 0);
  });

  it('agrees with BigInt ordering when used to sort', () => {
    const ids = ['10', '9', '1', '100', '9223372036854775807', '42', '2', '11', '1000000000000'];
    const sorted = [...ids].sort(compareIds);
    const expected = [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
    assert.deepEqual(sorted, expected);
  });
});

describe('pairKey', () => {
  it('puts the numerically smaller id first regardless of argument order', () => {
    assert.equal(pairKey('10', '9'), '9:10');
    assert.equal(pairKey('9', '10'), '9:10');
    assert.equal(pairKey('123', '45'), '45:123');
  });

  it('handles equal ids', () => {
    assert.equal(pairKey('7', '7'), '7:7');
  });
});

describe('codePointLength', () => {
  it('counts ASCII characters one each', () => {
    assert.equal(codePointLength(''), 0);
    assert.equal(codePointLength('hello'), 5);
  });

  it('counts an astral emoji (a surrogate pair) as one', () => {
    assert.equal('😀'.length, 2);
    assert.equal(codePointLength('😀'), 1);
    assert.equal(codePointLength('a😀b😀'), 4);
  });

  it('counts CJK characters as one each', () => {
    assert.equal(codePointLength('你好'), 2);
  });

  it('counts a combining mark as its own code point', () => {
    assert.equal(codePointLength('e\u0301'), 2);
  });

  it('counts a lone surrogate as one', () => {
    assert.equal(codePointLength('\ud800'), 1);
    assert.equal(codePointLength('\udc00'), 1);
    assert.equal(codePointLength('\ud800x'), 2);
    assert.equal(codePointLength('\udc00\ud800'), 2, 'a low then high surrogate is not a pair');
  });

  it('matches [...s].length', () => {
    for (const s of ['plain', '😀👍🏽', '你好世界', 'mix 😀 你 e\u0301', '\ud800', '\ud83d\ude00\ud800']) {
      assert.equal(codePointLength(s), [...s].length, JSON.stringify(s));
    }
  });
});

describe('sendSchemas(10).single', () => {
  const { single, group } = sendSchemas(10);

  it('canonicalises numeric ids to strings and fills defaults', () => {
    const r = single.safeParse({ sender_id: 1, receiver_id: '2', content: 'hi' });
    assert.ok(r.success, r.success ? '' : describeIssues(r.error));
    assert.deepEqual(r.data, {
      sender_id: '1',
      receiver_id: '2',
      content: 'hi',
      message_type: 'text',
      client_msg_id: null,
    });
  });

  it('keeps a given message_type and client_msg_id', () => {
    const r = single.safeParse({ sender_id: '5', receiver_id: 6, content: 'pic', message_type: 'image', client_msg_id: 'abc-1:2.3_x' });
    assert.ok(r.success);
    assert.equal(r.data.message_type, 'image');
    assert.equal(r.data.client_msg_id, 'abc-1:2.3_x');
    assert.equal(r.data.receiver_id, '6');
  });

  it('turns an explicit null client_msg_id into null', () => {
    const r = single.safeParse({ sender_id: '5', receiver_id: '6', content: 'x', client_msg_id: null });
    assert.ok(r.success);
    assert.equal(r.data.client_msg_id, null);
  });

  it('accepts content of exactly 10 code points, counting emoji as one', () => {
    const content = '😀'.repeat(10); // 20 UTF-16 units, 10 code points
    const r = single.safeParse({ sender_id: '1', receiver_id: '2', content });
    assert.ok(r.success, r.success ? '' : describeIssues(r.error));
  });

  it('rejects content of 11 characters, naming the field', () => {
    const r = single.safeParse({ sender_id: '1', receiver_id: '2', content: 'a'.repeat(11) });
    assert.ok(!r.success);
    const text = describeIssues(r.error);
    assert.match(text, /content/);
    assert.match(text, /11/);
  });

  it('rejects empty content and non-string content', () => {
    for (const content of ['', 5, null]) {
      const r = single.safeParse({ sender_id: '1', receiver_id: '2', content });
      assert.ok(!r.success, `content ${JSON.stringify(content)}`);
      assert.match(describeIssues(r.error), /content/);
    }
  });

  it('rejects content with an unpaired surrogate', () => {
    const r = single.safeParse({ sender_id: '1', receiver_id: '2', content: 'a\ud800b' });
    assert.ok(!r.success);
    assert.match(describeIssues(r.error), /content/);
  });

  it('rejects an unknown field (strict), naming it', () => {
    const r = single.safeParse({ sender_id: '1', receiver_id: '2', content: 'hi', extra: true });
    assert.ok(!r.success);
    const text = describeIssues(r.error);
    assert.match(text, /unknown field/);
    assert.match(text, /extra/);
  });

  it('rejects a bad message_type, naming the field', () => {
    const r = single.safeParse({ sender_id: '1', receiver_id: '2', content: 'hi', message_type: 'video' });
    assert.ok(!r.success);
    const text = describeIssues(r.error);
    assert.match(text, /message_type/);
    assert.match(text, /"video"/);
  });

  it('rejects a bad id, naming the field', () => {
    const r = single.safeParse({ sender_id: '0', receiver_id: '2', content: 'hi' });
    assert.ok(!r.success);
    assert.match(describeIssues(r.error), /sender_id/);
  });

  it('rejects a bad client_msg_id, naming the field', () => {
    const r = single.safeParse({ sender_id: '1', receiver_id: '2', content: 'hi', client_msg_id: 'has space' });
    assert.ok(!r.success);
    assert.match(describeIssues(r.error), /client_msg_id/);
  });

  it('reports a non-object body', () => {
    const r = single.safeParse('not an object');
    assert.ok(!r.success);
    assert.match(describeIssues(r.error), /must be a JSON object/);
  });

  it('reports several problems in one sentence, with the prefix', () => {
    const r = single.safeParse({ sender_id: 'x', receiver_id: -1, content: 'hi' });
    assert.ok(!r.success);
    const text = describeIssues(r.error, 'body: ');
    assert.match(text, /sender_id/);
    assert.match(text, /receiver_id/);
    assert.ok(text.startsWith('body: '));
  });

  it('group schema requires group_id and rejects receiver_id', () => {
    const ok = group.safeParse({ sender_id: '1', group_id: 3, content: 'hi' });
    assert.ok(ok.success);
    assert.equal(ok.data.group_id, '3');
    const bad = group.safeParse({ sender_id: '1', group_id: '3', receiver_id: '2', content: 'hi' });
    assert.ok(!bad.success);
    assert.match(describeIssues(bad.error), /receiver_id/);
  });
});

describe('messageEvent', () => {
  const stored: AcceptedMessage = {
    message_id: '123456789012345678',
    seq: 7,
    sender_id: '1',
    receiver_id: '2',
    group_id: null,
    content: 'hello 😀',
    message_type: 'text',
    created_at: 1_700_000_000_123,
    client_msg_id: 'c-1',
  };

  it('has exactly the contract keys, in order', () => {
    const event = JSON.parse(messageEvent(stored)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(event), [
      'event',
      'message_id',
      'seq',
      'sender_id',
      'receiver_id',
      'group_id',
      'content',
      'message_type',
      'timestamp',
      'status',
      'client_msg_id',
      'sender_device_id',
    ]);
  });

  it('carries the stored values, status "sent" and timestamp = created_at', () => {
    const event = JSON.parse(messageEvent(stored)) as Record<string, unknown>;
    assert.deepEqual(event, {
      event: 'message',
      message_id: '123456789012345678',
      seq: 7,
      sender_id: '1',
      receiver_id: '2',
      group_id: null,
      content: 'hello 😀',
      message_type: 'text',
      timestamp: 1_700_000_000_123,
      status: 'sent',
      client_msg_id: 'c-1',
      sender_device_id: null,
    });
  });

  it('keeps null receiver_id and client_msg_id as explicit nulls for a group message', () => {
    const event = JSON.parse(messageEvent({ ...stored, receiver_id: null, group_id: '9', client_msg_id: null })) as Record<string, unknown>;
    assert.equal(event.receiver_id, null);
    assert.equal(event.group_id, '9');
    assert.equal(event.client_msg_id, null);
    assert.ok('client_msg_id' in event);
  });
});

describe('fastSendParsers', () => {
  const max = 10;
  const { single, group } = sendSchemas(max);
  const fast = fastSendParsers(max);
  const ids: unknown[] = ['1', '9223372036854775807', '9223372036854775808', '0', '-1', '01', 7, 7.5, 2 ** 53, null, true, [], {}, '', ' 1', undefined];
  const contents: unknown[] = ['hi', '', 'x'.repeat(10), 'x'.repeat(11), '😀'.repeat(10), '😀'.repeat(11), '\ud800', 'e\u0301', 5, null, undefined, ['a']];
  const types: unknown[] = [undefined, 'text', 'image', 'file', 'voice', 'video', '', null, 1];
  const cmids: unknown[] = [undefined, null, 'c-1', 'a'.repeat(64), 'a'.repeat(65), 'bad id', '', 3];

  /** Every combination above, plus bodies that are not objects or carry extra fields. */
  function* bodies(idKey: 'receiver_id' | 'group_id') {
    for (const a of ids) for (const b of ['2', 'x', undefined]) for (const c of contents) for (const t of types) for (const m of cmids) {
      const body: Record<string, unknown> = { sender_id: a, [idKey]: b, content: c };
      if (t !== undefined) body.message_type = t;
      if (m !== undefined) body.client_msg_id = m;
      yield body;
    }
    yield* [null, [], 'text', 5, { sender_id: '1', [idKey]: '2', content: 'hi', extra: 1 }, JSON.parse(`{"sender_id":"1","${idKey}":"2","content":"hi","__proto__":1}`)];
  }

  it('accepts exactly what the schemas accept, with the same result', () => {
    let checked = 0;
    let valid = 0;
    for (const [schema, parser, key] of [
      [single, fast.single, 'receiver_id'],
      [group, fast.group, 'group_id'],
    ] as const) {
      for (const body of bodies(key)) {
        const z = schema.safeParse(body);
        const f = parser(body);
        if (z.success) valid++;
        assert.deepEqual(f, z.success ? z.data : undefined, JSON.stringify(body));
        checked++;
      }
    }
    assert.ok(checked > 10_000 && valid > 100, `${checked} bodies, ${valid} valid`);
  });
});

describe('accepted messages: single or group, never both or neither', () => {
  const base = { message_id: '900', seq: 1, sender_id: '1', content: 'x', message_type: 'text', created_at: 1_700_000_000_000, client_msg_id: null };
  it('accepts a single message and a group message in persist and delivery jobs', () => {
    for (const m of [{ ...base, receiver_id: '2', group_id: null }, { ...base, receiver_id: null, group_id: '7' }]) {
      assert.ok(jobSchemas['im.persist'].safeParse({ messages: [m] }).success, JSON.stringify(m));
      assert.ok(jobSchemas['im.deliver'].safeParse({ items: [{ message: m, receivers: ['3'] }] }).success);
    }
  });
  it('refuses a message with both a receiver and a group, or neither, and a fan-out job of a single message', () => {
    for (const m of [{ ...base, receiver_id: '2', group_id: '7' }, { ...base, receiver_id: null, group_id: null }]) {
      assert.equal(jobSchemas['im.persist'].safeParse({ messages: [m] }).success, false, JSON.stringify(m));
    }
    assert.equal(jobSchemas['im.fanout'].safeParse({ message: { ...base, receiver_id: '2', group_id: null } }).success, false);
    assert.ok(jobSchemas['im.fanout'].safeParse({ message: { ...base, receiver_id: null, group_id: '7' } }).success);
  });
  it('names conversations the same from either side', () => {
    assert.equal(conversationOf({ sender_id: '20', receiver_id: '3', group_id: null }), 's:3:20');
    assert.equal(conversationKeys.single('3', '20'), 's:3:20');
    assert.equal(conversationOf({ sender_id: '20', receiver_id: null, group_id: '7' }), 'g:7');
  });
});

describe('message id layout', () => {
  it('maps a time to the first id of that millisecond and back', () => {
    const ms = Date.UTC(2026, 10, 30, 12, 0, 0);
    assert.equal(idTimestamp(firstIdAt(ms)), ms);
    assert.equal(idTimestamp((BigInt(firstIdAt(ms)) + (1n << 22n) - 1n).toString()), ms, 'the last id of the millisecond');
    assert.equal(firstIdAt(ID_EPOCH_MS - 5), '0', 'before the epoch: 0');
  });
});

describe('recall and notification events', () => {
  it('carry exactly the contract keys, in order, and go to the receiver or the group', () => {
    const single = { message_id: '900', seq: 3, sender_id: '1', receiver_id: '2', group_id: null } as const;
    assert.deepEqual(Object.keys(JSON.parse(recallEvent(single, 5))), ['event', 'message_id', 'seq', 'sender_id', 'receiver_id', 'group_id', 'timestamp']);
    assert.equal(recallChannel(single), 'user:2');
    assert.equal(recallChannel({ ...single, receiver_id: null, group_id: '7' }), 'group:7');
    assert.deepEqual(JSON.parse(notificationEvent('maintenance at 2', 9)), { event: 'notification', content: 'maintenance at 2', timestamp: 9 });
  });
});
