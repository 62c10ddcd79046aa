import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { loadConfig } from '@im/config';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import { ERROR_REASONS } from '@im/errors';
import { keys, topology } from '@im/redis';
import { createIngest } from '../../apps/ingest-api/src/ingest';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testServers, uniqueName } from '../support/env';
import { Fleet } from '../support/fleet';
import { waitFor } from '../support/wait';

/**
 * Bad input on every /v1 route of the contract: each refusal has the contract's status and code,
 * the {"error":{"code","message"}} shape, an x-request-id, never a 500; and nothing refused leaves
 * a row in MySQL, a job in im.persist, a seq or dedupe record, a presence key or a notification.
 * Then strings that look like SQL, RESP, format strings or HTML go through as ordinary content
 * and come back byte for byte: from the queued job in process, and through a real fleet.
 */

type Ingest = Awaited<ReturnType<typeof createIngest>>;
type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

const BODY_LIMIT = 200_000;
const auth = { authorization: `Bearer ${TEST_TOKEN}` };
const INJECTIONS: readonly string[] = [
  "'); DROP TABLE message_history; --",
  '" OR 1=1 --',
  "' OR '1'='1",
  '\r\nSET foo bar\r\n',
  '*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n',
  '%s%n%x%d%p',
  '<script>alert(1)</script>',
  String.raw`\x00\'`,
  String.raw`C:\path\to\file \\ \" \n`,
  '${jndi:ldap://example.invalid/a} {{7*7}} $(id) `id`',
  '%_ LIKE wildcards _%',
  '  leading and trailing spaces  ',
  '\t\n',
  '\u202Eevil\u202C 😀 你好 e\u0301',
];

/** What a refused request must look like, whatever the route. */
function assertContractError(res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, code: string, mentions?: RegExp): void {
  assert.ok(res.statusCode < 500, `never a 5xx for bad input: got ${res.statusCode} ${res.body}`);
  assert.equal(res.statusCode, status, res.body);
  const requestId = res.headers['x-request-id'];
  assert.equal(typeof requestId, 'string', 'x-request-id header');
  assert.ok((requestId as string).length > 0, 'x-request-id is not empty');
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = JSON.parse(res.body) as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(body), ['error'], res.body);
  // Bad input is never worth a retry: no retry_after_s.
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'reason'], res.body);
  assert.equal(body.error.code, code, res.body);
  assert.ok((ERROR_REASONS as Record<string, readonly string[]>)[code]!.includes((body.error as { reason?: string }).reason!), `a reason of ${code}: ${res.body}`);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.trim().length > 0, 'the message is not empty');
  if (mentions) assert.match(body.error.message, mentions);
}

/** A JSON text of `obj` where the string "@@RAW@@" is replaced by raw JSON text (numbers JSON.stringify cannot write). */
const RAW = '@@RAW@@';
function rawJson(obj: unknown, raw: string): string {
  const text = JSON.stringify(obj);
  assert.ok(text.includes(`"${RAW}"`));
  return text.replace(`"${RAW}"`, raw);
}

/** A JSON body whose string at "@@BYTES@@" is made of the given (invalid) bytes. */
const BYTES = '@@BYTES@@';
function withBytes(obj: unknown, bytes: number[]): Buffer {
  const [head, tail] = JSON.stringify(obj).split(BYTES) as [string, string];
  return Buffer.concat([Buffer.from(head), Buffer.from(bytes), Buffer.from(tail)]);
}

/** Bad id values in a JSON body: [label, value or raw JSON text]. */
const BAD_BODY_IDS: [string, unknown, string?][] = [
  ['zero', 0],
  ['zero as a string', '0'],
  ['negative', -5],
  ['negative as a string', '-5'],
  ['leading zero', '012'],
  ['2^63 as a string', '9223372036854775808'],
  ['2^64 as a string', '18446744073709551616'],
  ['40 digits', '9'.repeat(40)],
  ['2^63 as a JSON number', RAW, '9223372036854775808'],
  ['unsafe JSON integer 9007199254740993', RAW, '9007199254740993'],
  ['2^53 as a JSON number', RAW, '9007199254740992'],
  ['1e400 (Infinity)', RAW, '1e400'],
  ['fractional', 1.5],
  ['non-numeric', 'abc'],
  ['hexadecimal', '0x1F'],
  ['exponent in a string', '1e3'],
  ['padded with a space', ' 7'],
  ['with a plus sign', '+7'],
  ['empty string', ''],
  ['boolean', true],
  ['null', null],
  ['object', { id: '1' }],
  ['list', ['1']],
];

/** Bad ids in a path or query string (already URL-encoded). */
const BAD_URL_IDS: [string, string][] = [
  ['non-numeric', 'abc'],
  ['zero', '0'],
  ['negative', '-1'],
  ['leading zero', '012'],
  ['fractional', '1.5'],
  ['exponent', '1e3'],
  ['hexadecimal', '0x1F'],
  ['plus sign', '%2B7'],
  ['a space', '%20'],
  ['trailing space', '7%20'],
  ['NUL byte', '7%00'],
  ['2^63', '9223372036854775808'],
  ['2^64', '18446744073709551616'],
  ['40 digits', '9'.repeat(40)],
  ['emoji', encodeURIComponent('😀')],
];

interface Case {
  name: string;
  method: Method;
  url: string;
  body?: unknown;
  headers?: Record<string, string | undefined>;
  status: number;
  code: string;
  mentions?: RegExp;
}

describe('bad input on every /v1 route: contract errors, and nothing written', () => {
  let db: TestDatabase;
  let ingest: Ingest;
  let redis: Redis;
  let sub: Redis;
  const notifications: string[] = [];
  const prefix = `{${uniqueName('imt')}}`;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const [alice, bob, carol] = [id(1), id(2), id(3)];
  const group = id(500);
  /** Ids that bad requests name but that must never come to exist. */
  const [freshUser, freshGroup, unknownUser, unknownGroup] = [id(40), id(540), id(97), id(597)];
  const created = { users: [alice, bob, carol], groups: [group], members: [alice, bob] };

  const send = (method: Method, url: string, body?: unknown, headers: Record<string, string | undefined> = {}) => {
    const h: Record<string, string> = { ...auth };
    if (body !== undefined) h['content-type'] = 'application/json';
    for (const [k, v] of Object.entries(headers)) {
      if (v === undefined) delete h[k];
      else h[k] = v;
    }
    return ingest.app.inject({
      method,
      url,
      headers: h,
      payload: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  };

  before(async () => {
    db = await createTestDatabase();
    const config = loadConfig({
      env: {
        REDIS_URL: testServers().redisUrl,
        MYSQL_URL: db.url,
        IM_API_TOKENS: TEST_TOKEN,
        IM_QUEUE_PREFIX: prefix,
        IM_MESSAGE_SERVICE_MAX_BODY_BYTES: String(BODY_LIMIT),
      },
    });
    ingest = await createIngest(config, createLogger('ingest-api', 'silent'), createMetrics('ingest-api'));
    redis = new Redis(testServers().redisUrl, { maxRetriesPerRequest: null });
    sub = new Redis(testServers().redisUrl, { maxRetriesPerRequest: null });
    sub.on('message', (_channel: string, raw: string) => notifications.push(raw));
    await sub.subscribe('system:notification');
    for (const u of created.users) assert.equal((await send('PUT', `/v1/users/${u}`, { name: `user ${u.slice(-1)}` })).statusCode, 204);
    assert.equal((await send('PUT', `/v1/groups/${group}`, { name: 'the group' })).statusCode, 204);
    const added = await send('POST', `/v1/groups/${group}/members`, { add: created.members });
    assert.equal(added.statusCode, 200, added.body);
    assert.deepEqual(added.json(), { member_count: 2 });
  });

  after(async () => {
    sub?.disconnect();
    redis?.disconnect();
    if (ingest) for (const [, run] of ingest.shutdownSteps) await run().catch(() => {});
    const q = new Queue('im.persist', { connection: { url: testServers().redisUrl } as never, prefix });
    await q.obliterate({ force: true });
    await q.close();
    await db?.drop();
  });

  // ---------------------------------------------------------------------------------------------
  // The table. Each route gets generic cases (auth, JSON, UTF-8, size, unknown fields) and the
  // cases of its own fields, path ids and query parameters.

  /** Cases every route with a JSON body shares. `text` names a string field of the valid body. */
  function bodyCases(method: Method, url: string, valid: Record<string, unknown>, text: { field: string; list?: boolean }): Case[] {
    const bad = (bytes: number[]) => withBytes({ ...valid, [text.field]: text.list ? [BYTES] : BYTES }, bytes);
    const cases: Case[] = [
      { name: 'malformed JSON', method, url, body: '{"a": 1,', status: 400, code: 'INVALID_ARGUMENT', mentions: /not valid JSON/ },
      { name: 'truncated JSON', method, url, body: JSON.stringify(valid).slice(0, -1), status: 400, code: 'INVALID_ARGUMENT', mentions: /JSON/ },
      { name: 'trailing garbage after the JSON', method, url, body: `${JSON.stringify(valid)}x`, status: 400, code: 'INVALID_ARGUMENT', mentions: /JSON/ },
      { name: 'two JSON objects', method, url, body: `${JSON.stringify(valid)}${JSON.stringify(valid)}`, status: 400, code: 'INVALID_ARGUMENT', mentions: /JSON/ },
      { name: 'single-quoted JSON', method, url, body: JSON.stringify(valid).replaceAll('"', "'"), status: 400, code: 'INVALID_ARGUMENT', mentions: /JSON/ },
      { name: 'a JSON array', method, url, body: JSON.stringify([valid]), status: 400, code: 'INVALID_ARGUMENT', mentions: /JSON object/ },
      { name: 'a JSON string', method, url, body: '"hello"', status: 400, code: 'INVALID_ARGUMENT', mentions: /JSON object/ },
      { name: 'a JSON number', method, url, body: '42', status: 400, code: 'INVALID_ARGUMENT', mentions: /JSON object/ },
      { name: 'JSON true', method, url, body: 'true', status: 400, code: 'INVALID_ARGUMENT', mentions: /JSON object/ },
      { name: 'JSON null', method, url, body: 'null', status: 400, code: 'INVALID_ARGUMENT', mentions: /JSON object/ },
      { name: 'an empty body', method, url, body: '', status: 400, code: 'INVALID_ARGUMENT', mentions: /JSON object/ },
      { name: 'no body at all', method, url, status: 400, code: 'INVALID_ARGUMENT', mentions: /JSON object/ },
      { name: 'a text/plain body', method, url, body: JSON.stringify(valid), headers: { 'content-type': 'text/plain' }, status: 400, code: 'INVALID_ARGUMENT', mentions: /application\/json/ },
      { name: 'a form body', method, url, body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 400, code: 'INVALID_ARGUMENT', mentions: /application\/json/ },
      { name: 'invalid UTF-8: bad continuation byte', method, url, body: bad([0x61, 0xc3, 0x28]), status: 400, code: 'INVALID_ARGUMENT', mentions: /UTF-8/ },
      { name: 'invalid UTF-8: a lone 0xFF', method, url, body: bad([0x61, 0xff]), status: 400, code: 'INVALID_ARGUMENT', mentions: /UTF-8/ },
      { name: 'invalid UTF-8: overlong "/"', method, url, body: bad([0xc0, 0xaf]), status: 400, code: 'INVALID_ARGUMENT', mentions: /UTF-8/ },
      { name: 'invalid UTF-8: an encoded surrogate', method, url, body: bad([0xed, 0xa0, 0x80]), status: 400, code: 'INVALID_ARGUMENT', mentions: /UTF-8/ },
      { name: 'invalid UTF-8: above U+10FFFF', method, url, body: bad([0xf4, 0x90, 0x80, 0x80]), status: 400, code: 'INVALID_ARGUMENT', mentions: /UTF-8/ },
      { name: 'invalid UTF-8: a truncated sequence', method, url, body: bad([0x61, 0xe2, 0x82]), status: 400, code: 'INVALID_ARGUMENT', mentions: /UTF-8/ },
      {
        name: 'an escaped unpaired surrogate',
        method,
        url,
        body: JSON.stringify({ ...valid, [text.field]: text.list ? [RAW] : RAW }).replace(`"${RAW}"`, '"a\\ud800b"'),
        status: 400,
        code: 'INVALID_ARGUMENT',
        mentions: new RegExp(text.field),
      },
      { name: 'an unknown field', method, url, body: { ...valid, priority: 1 }, status: 400, code: 'INVALID_ARGUMENT', mentions: /unknown field priority/ },
      { name: 'a __proto__ field', method, url, body: `${JSON.stringify(valid).slice(0, -1)},"__proto__":{"admin":true}}`, status: 400, code: 'INVALID_ARGUMENT', mentions: /unknown field __proto__/ },
      { name: 'a constructor field', method, url, body: { ...valid, constructor: { prototype: {} } }, status: 400, code: 'INVALID_ARGUMENT', mentions: /unknown field constructor/ },
      { name: 'a body over the configured limit', method, url, body: { ...valid, [text.field]: text.list ? ['1'] : 'x', padding: 'x'.repeat(BODY_LIMIT + 10) }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
      // 401 comes before anything else: no token with a body that is also bad in other ways.
      { name: 'no token', method, url, body: valid, headers: { authorization: undefined }, status: 401, code: 'UNAUTHENTICATED', mentions: /bearer/i },
      { name: 'a wrong token', method, url, body: valid, headers: { authorization: 'Bearer wrong-token-0000000000' }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'the token with a suffix', method, url, body: valid, headers: { authorization: `Bearer ${TEST_TOKEN}x` }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'a prefix of the token', method, url, body: valid, headers: { authorization: `Bearer ${TEST_TOKEN.slice(0, -1)}` }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'an empty bearer token', method, url, body: valid, headers: { authorization: 'Bearer ' }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'the Basic scheme', method, url, body: valid, headers: { authorization: `Basic ${TEST_TOKEN}` }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'the token without a scheme', method, url, body: valid, headers: { authorization: TEST_TOKEN }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'no token and malformed JSON', method, url, body: '{"a": 1,', headers: { authorization: undefined }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'no token and invalid UTF-8', method, url, body: bad([0xff]), headers: { authorization: undefined }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'no token and an unknown field', method, url, body: { ...valid, priority: 1 }, headers: { authorization: undefined }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'a wrong token and a body over the limit', method, url, body: { ...valid, padding: 'x'.repeat(BODY_LIMIT + 10) }, headers: { authorization: 'Bearer wrong-token-0000000000' }, status: 401, code: 'UNAUTHENTICATED' },
    ];
    for (const field of Object.keys(valid)) {
      const { [field]: _omitted, ...rest } = valid;
      if (field !== 'ttl_s') cases.push({ name: `missing ${field}`, method, url, body: rest, status: 400, code: 'INVALID_ARGUMENT', mentions: new RegExp(field) });
    }
    return cases;
  }

  /** Bad ids in one id field of a JSON body (or in a list of ids). */
  function idFieldCases(method: Method, url: string, valid: Record<string, unknown>, field: string, list = false): Case[] {
    return BAD_BODY_IDS.filter(([label]) => !(list && label === 'list')).map(([label, value, raw]) => {
      const v = list ? [value] : value;
      const body = raw === undefined ? { ...valid, [field]: v } : rawJson({ ...valid, [field]: v }, raw);
      return { name: `${field}${list ? '[]' : ''} ${label}`, method, url, body, status: 400, code: 'INVALID_ARGUMENT', mentions: new RegExp(field) };
    });
  }

  /** Wrong values of a non-id field. */
  function fieldCases(method: Method, url: string, valid: Record<string, unknown>, field: string, values: [string, unknown][]): Case[] {
    return values.map(([label, value]) => ({
      name: `${field} ${label}`,
      method,
      url,
      body: { ...valid, [field]: value },
      status: 400,
      code: 'INVALID_ARGUMENT',
      mentions: new RegExp(field),
    }));
  }

  /** Auth cases for routes without a body. */
  function authCases(method: Method, url: string, badUrl: string): Case[] {
    return [
      { name: 'no token', method, url, headers: { authorization: undefined }, status: 401, code: 'UNAUTHENTICATED', mentions: /bearer/i },
      { name: 'a wrong token', method, url, headers: { authorization: 'Bearer wrong-token-0000000000' }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'an empty bearer token', method, url, headers: { authorization: 'Bearer' }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'the Basic scheme', method, url, headers: { authorization: `Basic ${TEST_TOKEN}` }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'no token and a bad id', method, url: badUrl, headers: { authorization: undefined }, status: 401, code: 'UNAUTHENTICATED' },
    ];
  }

  /** Path ids that are not ids. */
  function pathIdCases(method: Method, url: (id: string) => string, param: string, body?: unknown): Case[] {
    return BAD_URL_IDS.map(([label, value]) => ({
      name: `path ${param} ${label}`,
      method,
      url: url(value),
      body,
      status: 400,
      code: 'INVALID_ARGUMENT',
      mentions: new RegExp(param),
    }));
  }

  /** Query parameter values out of range or of the wrong form. */
  function queryCases(method: Method, path: string, fixed: string, param: string, values: [string, string][], mentions = new RegExp(param)): Case[] {
    return values.map(([label, value]) => ({
      name: `${param} ${label}`,
      method,
      url: `${path}?${fixed ? `${fixed}&` : ''}${param}=${value}`,
      status: 400,
      code: 'INVALID_ARGUMENT',
      mentions,
    }));
  }
  const limitValues = (max: number): [string, string][] => [
    ['zero', '0'],
    [`above ${max}`, String(max + 1)],
    ['far above', '99999999999'],
    ['negative', '-1'],
    ['fractional', '1.5'],
    ['exponent', '1e2'],
    ['non-numeric', 'abc'],
    ['with a space', '%205'],
    ['given twice', '1&limit=2'],
  ];
  const idQueryValues = BAD_URL_IDS.filter(([label]) => label !== 'a space');

  const contentValues = (max: number): [string, unknown][] => [
    ['empty', ''],
    [`of ${max + 1} characters`, 'x'.repeat(max + 1)],
    [`of ${max + 1} emoji`, '😀'.repeat(max + 1)],
    ['as a number', 5],
    ['as a boolean', true],
    ['null', null],
    ['as an object', { text: 'x' }],
    ['as a list', ['x']],
  ];
  const nameValues: [string, unknown][] = [
    ['empty', ''],
    ['only spaces', '   '],
    ['of 129 characters', 'n'.repeat(129)],
    ['of 129 emoji', '😀'.repeat(129)],
    ['with a NUL', 'a\u0000b'],
    ['with a tab', 'a\tb'],
    ['with a newline', 'a\nb'],
    ['with DEL', 'a\u007fb'],
    ['as a number', 5],
    ['as a boolean', false],
    ['null', null],
    ['as a list', ['a']],
    ['as an object', { name: 'a' }],
  ];

  const routes: [string, Case[]][] = [];

  // POST /v1/messages
  {
    const url = '/v1/messages';
    const valid = { sender_id: alice, receiver_id: bob, content: 'hello' };
    routes.push([
      'POST /v1/messages',
      [
        ...bodyCases('POST', url, valid, { field: 'content' }),
        ...idFieldCases('POST', url, valid, 'sender_id'),
        ...idFieldCases('POST', url, valid, 'receiver_id'),
        ...fieldCases('POST', url, valid, 'content', contentValues(4096)),
        ...fieldCases('POST', url, valid, 'message_type', [['unknown', 'video'], ['upper case', 'TEXT'], ['empty', ''], ['a number', 1], ['null', null], ['a list', ['text']]]),
        ...fieldCases('POST', url, valid, 'client_msg_id', [['empty', ''], ['of 65 characters', 'c'.repeat(65)], ['with a space', 'has space'], ['with a slash', 'a/b'], ['non-ASCII', 'ü'], ['a number', 7], ['a boolean', true], ['an object', {}]]),
        { name: 'group_id as well as receiver_id', method: 'POST', url, body: { ...valid, group_id: group }, status: 400, code: 'INVALID_ARGUMENT', mentions: /group_id/ },
        { name: 'an unknown sender', method: 'POST', url, body: { ...valid, sender_id: unknownUser }, status: 404, code: 'NOT_FOUND', mentions: /sender_id/ },
        { name: 'an unknown receiver', method: 'POST', url, body: { ...valid, receiver_id: unknownUser }, status: 404, code: 'NOT_FOUND', mentions: /receiver_id/ },
        { name: 'PATCH is no route', method: 'PATCH', url, body: valid, status: 404, code: 'NOT_FOUND' },
      ],
    ]);
  }

  // POST /v1/group-messages
  {
    const url = '/v1/group-messages';
    const valid = { sender_id: alice, group_id: group, content: 'hello group' };
    routes.push([
      'POST /v1/group-messages',
      [
        ...bodyCases('POST', url, valid, { field: 'content' }),
        ...idFieldCases('POST', url, valid, 'sender_id'),
        ...idFieldCases('POST', url, valid, 'group_id'),
        ...fieldCases('POST', url, valid, 'content', contentValues(4096)),
        ...fieldCases('POST', url, valid, 'message_type', [['unknown', 'sticker'], ['a number', 2]]),
        ...fieldCases('POST', url, valid, 'client_msg_id', [['empty', ''], ['of 65 characters', 'c'.repeat(65)], ['with a space', 'a b']]),
        { name: 'receiver_id as well as group_id', method: 'POST', url, body: { ...valid, receiver_id: bob }, status: 400, code: 'INVALID_ARGUMENT', mentions: /receiver_id/ },
        { name: 'an unknown group', method: 'POST', url, body: { ...valid, group_id: unknownGroup }, status: 404, code: 'NOT_FOUND', mentions: /group_id/ },
        { name: 'an unknown sender', method: 'POST', url, body: { ...valid, sender_id: unknownUser }, status: 404, code: 'NOT_FOUND', mentions: /sender_id/ },
        { name: 'a sender who is not a member', method: 'POST', url, body: { ...valid, sender_id: carol }, status: 403, code: 'PERMISSION_DENIED', mentions: /member/ },
      ],
    ]);
  }

  // POST /v1/messages/batch: refusals of the whole body (items are checked one by one further down).
  {
    const url = '/v1/messages/batch';
    const item = { sender_id: alice, receiver_id: bob, content: 'batch item' };
    const valid = { messages: [item] };
    const tooMany = { messages: Array.from({ length: 1001 }, () => ({ sender_id: 1, receiver_id: 2, content: 'x' })) };
    routes.push([
      'POST /v1/messages/batch',
      [
        ...bodyCases('POST', url, valid, { field: 'messages', list: true })
          // A bad string inside "messages" is a bad item: 200 with its own error (tested below).
          .filter((c) => !/surrogate/.test(c.name))
          // The batch route answers any body of the wrong shape with one sentence about "messages".
          .map((c) => (c.status === 400 && c.mentions && !/not valid JSON|^JSON$|UTF-8|application/.test(c.mentions.source) ? { ...c, mentions: /messages/ } : c)),
        { name: 'messages empty', method: 'POST', url, body: { messages: [] }, status: 400, code: 'INVALID_ARGUMENT', mentions: /1 to 1000/ },
        { name: 'messages with 1001 items', method: 'POST', url, body: tooMany, status: 400, code: 'INVALID_ARGUMENT', mentions: /1 to 1000/ },
        { name: 'messages as an object', method: 'POST', url, body: { messages: item }, status: 400, code: 'INVALID_ARGUMENT', mentions: /messages/ },
        { name: 'messages as a string', method: 'POST', url, body: { messages: 'x' }, status: 400, code: 'INVALID_ARGUMENT', mentions: /messages/ },
        { name: 'messages null', method: 'POST', url, body: { messages: null }, status: 400, code: 'INVALID_ARGUMENT', mentions: /messages/ },
        { name: 'a single send instead of a batch', method: 'POST', url, body: item, status: 400, code: 'INVALID_ARGUMENT', mentions: /messages/ },
      ],
    ]);
  }

  // GET /v1/users/{id}/offline-messages
  {
    const path = `/v1/users/${alice}/offline-messages`;
    routes.push([
      'GET /v1/users/{id}/offline-messages',
      [
        ...authCases('GET', path, '/v1/users/abc/offline-messages'),
        ...pathIdCases('GET', (v) => `/v1/users/${v}/offline-messages`, 'user_id'),
        ...queryCases('GET', path, '', 'limit', limitValues(1000)),
        ...queryCases('GET', path, '', 'last_message_id', idQueryValues),
        ...queryCases('GET', path, '', 'cursor', [['(an unknown parameter)', '1']], /cursor/),
        { name: 'an unknown user', method: 'GET', url: `/v1/users/${unknownUser}/offline-messages`, status: 404, code: 'NOT_FOUND', mentions: new RegExp(unknownUser) },
      ],
    ]);
  }

  // POST /v1/acks
  {
    const url = '/v1/acks';
    const valid = { user_id: alice, message_ids: ['1'], status: 'read' };
    routes.push([
      'POST /v1/acks',
      [
        ...bodyCases('POST', url, valid, { field: 'status' }),
        ...idFieldCases('POST', url, valid, 'user_id'),
        ...idFieldCases('POST', url, valid, 'message_ids', true),
        ...fieldCases('POST', url, valid, 'message_ids', [
          ['empty', []],
          ['with 1001 ids', Array.from({ length: 1001 }, (_, i) => String(i + 1))],
          ['a single id', '1'],
          ['a number', 1],
          ['null', null],
          ['an object', { 0: '1' }],
        ]),
        ...fieldCases('POST', url, valid, 'status', [['unknown', 'seen'], ['upper case', 'READ'], ['empty', ''], ['a number', 1], ['null', null], ['a list', ['read']]]),
        { name: 'an unknown user', method: 'POST', url, body: { ...valid, user_id: unknownUser }, status: 404, code: 'NOT_FOUND', mentions: new RegExp(unknownUser) },
      ],
    ]);
  }

  // GET /v1/users/{id}/conversations
  {
    const path = `/v1/users/${alice}/conversations`;
    routes.push([
      'GET /v1/users/{id}/conversations',
      [
        ...authCases('GET', path, '/v1/users/0/conversations'),
        ...pathIdCases('GET', (v) => `/v1/users/${v}/conversations`, 'user_id'),
        ...queryCases('GET', path, '', 'limit', limitValues(200)),
        ...queryCases('GET', path, '', 'offset', [['(an unknown parameter)', '5']], /offset/),
        { name: 'an unknown user', method: 'GET', url: `/v1/users/${unknownUser}/conversations`, status: 404, code: 'NOT_FOUND' },
      ],
    ]);
  }

  // GET /v1/users/{id}/history
  {
    const path = `/v1/users/${alice}/history`;
    routes.push([
      'GET /v1/users/{id}/history',
      [
        ...authCases('GET', `${path}?peer_id=${bob}`, `/v1/users/-1/history?peer_id=${bob}`),
        ...pathIdCases('GET', (v) => `/v1/users/${v}/history?peer_id=${bob}`, 'user_id'),
        { name: 'neither peer_id nor group_id', method: 'GET', url: path, status: 400, code: 'INVALID_ARGUMENT', mentions: /peer_id or group_id/ },
        { name: 'both peer_id and group_id', method: 'GET', url: `${path}?peer_id=${bob}&group_id=${group}`, status: 400, code: 'INVALID_ARGUMENT', mentions: /peer_id or group_id/ },
        ...queryCases('GET', path, '', 'peer_id', idQueryValues),
        ...queryCases('GET', path, '', 'group_id', idQueryValues),
        ...queryCases('GET', path, `peer_id=${bob}`, 'before_seq', [['zero', '0'], ['negative', '-1'], ['above 999999999', '1000000000'], ['non-numeric', 'x'], ['fractional', '2.5']]),
        ...queryCases('GET', path, `peer_id=${bob}`, 'limit', limitValues(200)),
        ...queryCases('GET', path, `peer_id=${bob}`, 'after_seq', [['(an unknown parameter)', '1']], /after_seq/),
        { name: 'an unknown user', method: 'GET', url: `/v1/users/${unknownUser}/history?peer_id=${bob}`, status: 404, code: 'NOT_FOUND' },
        { name: 'an unknown peer', method: 'GET', url: `${path}?peer_id=${unknownUser}`, status: 404, code: 'NOT_FOUND', mentions: new RegExp(unknownUser) },
        { name: 'an unknown group', method: 'GET', url: `${path}?group_id=${unknownGroup}`, status: 404, code: 'NOT_FOUND', mentions: new RegExp(unknownGroup) },
        { name: 'a group the user is not in', method: 'GET', url: `/v1/users/${carol}/history?group_id=${group}`, status: 403, code: 'PERMISSION_DENIED' },
      ],
    ]);
  }

  // GET /v1/users/{id}/search
  {
    const path = `/v1/users/${alice}/search`;
    routes.push([
      'GET /v1/users/{id}/search',
      [
        ...authCases('GET', `${path}?keyword=x`, '/v1/users/012/search?keyword=x'),
        ...pathIdCases('GET', (v) => `/v1/users/${v}/search?keyword=x`, 'user_id'),
        { name: 'no keyword', method: 'GET', url: path, status: 400, code: 'INVALID_ARGUMENT', mentions: /keyword/ },
        ...queryCases('GET', path, '', 'keyword', [['empty', ''], ['only spaces', '%20%20'], ['of 101 characters', 'k'.repeat(101)], ['given twice', 'a&keyword=b']]),
        ...queryCases('GET', path, 'keyword=x', 'start_time', [['non-numeric', 'yesterday'], ['negative', '-1'], ['exponent', '1e3'], ['of 16 digits', '1'.repeat(16)], ['fractional', '1.5']]),
        ...queryCases('GET', path, 'keyword=x', 'end_time', [['non-numeric', 'now'], ['negative', '-5'], ['of 16 digits', '9'.repeat(16)]]),
        { name: 'end_time before start_time', method: 'GET', url: `${path}?keyword=x&start_time=2000&end_time=1000`, status: 400, code: 'INVALID_ARGUMENT', mentions: /end_time/ },
        ...queryCases('GET', path, 'keyword=x', 'limit', limitValues(200)),
        ...queryCases('GET', path, 'keyword=x', 'peer_id', [['(an unknown parameter)', bob]], /peer_id/),
        { name: 'an unknown user', method: 'GET', url: `/v1/users/${unknownUser}/search?keyword=x`, status: 404, code: 'NOT_FOUND' },
      ],
    ]);
  }

  // DELETE /v1/messages/{id}
  {
    const path = `/v1/messages/${id(9999)}`;
    routes.push([
      'DELETE /v1/messages/{id}',
      [
        ...authCases('DELETE', `${path}?user_id=${alice}`, `/v1/messages/abc?user_id=${alice}`),
        ...pathIdCases('DELETE', (v) => `/v1/messages/${v}?user_id=${alice}`, 'message_id'),
        { name: 'no user_id', method: 'DELETE', url: path, status: 400, code: 'INVALID_ARGUMENT', mentions: /user_id/ },
        ...queryCases('DELETE', path, '', 'user_id', idQueryValues),
        ...queryCases('DELETE', path, `user_id=${alice}`, 'force', [['(an unknown parameter)', 'true']], /force/),
        { name: 'an unknown message', method: 'DELETE', url: `${path}?user_id=${alice}`, status: 404, code: 'NOT_FOUND', mentions: new RegExp(id(9999)) },
      ],
    ]);
  }

  // PUT /v1/presence/{id} (a user id that must never get a presence key) and DELETE /v1/presence/{id}
  {
    const url = `/v1/presence/${freshUser}`;
    const valid = { gateway_id: 'gw-1', ttl_s: 30 };
    routes.push([
      'PUT /v1/presence/{id}',
      [
        ...bodyCases('PUT', url, valid, { field: 'gateway_id' }),
        ...pathIdCases('PUT', (v) => `/v1/presence/${v}`, 'user_id', valid),
        ...fieldCases('PUT', url, valid, 'gateway_id', [
          ['empty', ''],
          ['of 129 characters', 'g'.repeat(129)],
          ['with a space', 'gw 1'],
          ['with a slash', 'gw/1'],
          ['non-ASCII', 'gw-ü'],
          ['a number', 1],
          ['null', null],
          ['a list', ['gw-1']],
        ]),
        ...fieldCases('PUT', url, valid, 'ttl_s', [
          ['zero', 0],
          ['negative', -1],
          ['above 86400', 86_401],
          ['fractional', 1.5],
          ['a string', '60'],
          ['null', null],
          ['a boolean', true],
        ]),
        { name: 'no path id and a body', method: 'PUT', url: '/v1/presence/', body: valid, status: 400, code: 'INVALID_ARGUMENT', mentions: /user_id/ },
      ],
    ]);
    routes.push([
      'DELETE /v1/presence/{id}',
      [
        ...authCases('DELETE', `/v1/presence/${alice}`, '/v1/presence/abc'),
        ...pathIdCases('DELETE', (v) => `/v1/presence/${v}`, 'user_id'),
        ...[
          ['empty', ''],
          ['with a space', 'gw%201'],
          ['with a slash', 'gw%2F1'],
          ['of 129 characters', 'g'.repeat(129)],
          ['non-ASCII', 'gw-%C3%BC'],
        ].map(([what, v]) => ({ name: `gateway_id ${what}`, method: 'DELETE' as const, url: `/v1/presence/${alice}?gateway_id=${v}`, status: 400, code: 'INVALID_ARGUMENT', mentions: /gateway_id/ })),
        { name: 'gateway_id twice', method: 'DELETE' as const, url: `/v1/presence/${alice}?gateway_id=a&gateway_id=b`, status: 400, code: 'INVALID_ARGUMENT', mentions: /gateway_id/ },
        { name: 'an unknown query parameter', method: 'DELETE' as const, url: `/v1/presence/${alice}?gateway=a`, status: 400, code: 'INVALID_ARGUMENT', mentions: /gateway/ },
      ],
    ]);
  }

  // PUT /v1/users/{id} (a user id that must never come to exist)
  {
    const url = `/v1/users/${freshUser}`;
    const valid = { name: 'fresh' };
    routes.push([
      'PUT /v1/users/{id}',
      [...bodyCases('PUT', url, valid, { field: 'name' }), ...pathIdCases('PUT', (v) => `/v1/users/${v}`, 'user_id', valid), ...fieldCases('PUT', url, valid, 'name', nameValues)],
    ]);
  }

  // PUT /v1/groups/{id} (a group id that must never come to exist)
  {
    const url = `/v1/groups/${freshGroup}`;
    const valid = { name: 'fresh group' };
    routes.push([
      'PUT /v1/groups/{id}',
      [...bodyCases('PUT', url, valid, { field: 'name' }), ...pathIdCases('PUT', (v) => `/v1/groups/${v}`, 'group_id', valid), ...fieldCases('PUT', url, valid, 'name', nameValues)],
    ]);
  }

  // POST /v1/groups/{id}/members: adding carol would show as a new group_member row.
  {
    const url = `/v1/groups/${group}/members`;
    const valid = { add: [carol] };
    routes.push([
      'POST /v1/groups/{id}/members',
      [
        ...bodyCases('POST', url, valid, { field: 'add', list: true }).filter((c) => c.name !== 'missing add'),
        ...pathIdCases('POST', (v) => `/v1/groups/${v}/members`, 'group_id', valid),
        ...idFieldCases('POST', url, valid, 'add', true),
        ...idFieldCases('POST', url, { remove: [bob] }, 'remove', true),
        ...fieldCases('POST', url, valid, 'add', [
          ['a single id', carol],
          ['a number', 5],
          ['null', null],
          ['an object', { id: carol }],
          ['with 10001 ids', Array.from({ length: 10_001 }, () => 1)],
        ]),
        ...fieldCases('POST', url, { remove: [bob] }, 'remove', [['a single id', bob], ['null', null]]),
        { name: 'neither add nor remove', method: 'POST', url, body: {}, status: 400, code: 'INVALID_ARGUMENT', mentions: /add or remove/ },
        { name: 'add and remove both empty', method: 'POST', url, body: { add: [], remove: [] }, status: 400, code: 'INVALID_ARGUMENT', mentions: /add or remove/ },
        { name: 'the same user in add and remove', method: 'POST', url, body: { add: [carol], remove: [carol] }, status: 400, code: 'INVALID_ARGUMENT', mentions: new RegExp(carol) },
        { name: 'an unknown group (not created by the call)', method: 'POST', url: `/v1/groups/${unknownGroup}/members`, body: valid, status: 404, code: 'NOT_FOUND', mentions: new RegExp(unknownGroup) },
        { name: 'an unknown user to add', method: 'POST', url, body: { add: [carol, unknownUser] }, status: 404, code: 'NOT_FOUND', mentions: new RegExp(unknownUser) },
      ],
    ]);
    routes.push([
      'GET /v1/groups/{id}/members',
      [
        ...authCases('GET', url, '/v1/groups/abc/members'),
        ...pathIdCases('GET', (v) => `/v1/groups/${v}/members`, 'group_id'),
        { name: 'an unknown group', method: 'GET', url: `/v1/groups/${unknownGroup}/members`, status: 404, code: 'NOT_FOUND', mentions: new RegExp(unknownGroup) },
      ],
    ]);
  }

  // POST /v1/notifications: a refused one is never published (checked after the table).
  {
    const url = '/v1/notifications';
    const valid = { content: 'refused notification' };
    routes.push([
      'POST /v1/notifications',
      [...bodyCases('POST', url, valid, { field: 'content' }), ...fieldCases('POST', url, valid, 'content', contentValues(4096))],
    ]);
  }

  // Unknown routes under /v1: 401 without a token, 404 with one.
  routes.push([
    'unknown /v1 routes',
    [
      { name: 'no token', method: 'GET', url: '/v1/nothing-here', headers: { authorization: undefined }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'an unknown path', method: 'GET', url: '/v1/nothing-here', status: 404, code: 'NOT_FOUND' },
      { name: 'a trailing slash', method: 'GET', url: `/v1/users/${alice}/offline-messages/`, status: 404, code: 'NOT_FOUND' },
      { name: 'a wrong method', method: 'DELETE', url: `/v1/users/${alice}`, status: 404, code: 'NOT_FOUND' },
    ],
  ]);

  for (const [route, cases] of routes) {
    describe(route, () => {
      const names = new Set<string>();
      for (const c of cases) {
        assert.ok(!names.has(c.name), `duplicate case name ${route}: ${c.name}`);
        names.add(c.name);
        it(`${c.name} -> ${c.status} ${c.code}`, async () => {
          assertContractError(await send(c.method, c.url, c.body, c.headers), c.status, c.code, c.mentions);
        });
      }
    });
  }

  describe('POST /v1/messages/batch items', () => {
    it('answers 200 with each bad item its own error, in request order, and queues none of them', async () => {
      const single = { sender_id: alice, receiver_id: bob, content: 'item' };
      const groupSend = { sender_id: alice, group_id: group, content: 'item' };
      const items: [string, string, RegExp, string?][] = [
        ...BAD_BODY_IDS.map(([, value, raw]): [string, string, RegExp] => [
          raw === undefined ? JSON.stringify({ ...single, sender_id: value }) : rawJson({ ...single, sender_id: value }, raw),
          'INVALID_ARGUMENT',
          /sender_id/,
        ]),
        ...BAD_BODY_IDS.map(([, value, raw]): [string, string, RegExp] => [
          raw === undefined ? JSON.stringify({ ...groupSend, group_id: value }) : rawJson({ ...groupSend, group_id: value }, raw),
          'INVALID_ARGUMENT',
          /group_id/,
        ]),
        ...contentValues(4096).map(([, value]): [string, string, RegExp] => [JSON.stringify({ ...single, content: value }), 'INVALID_ARGUMENT', /content/]),
        ['{"sender_id":"1","receiver_id":"2","content":"a\\udc00"}', 'INVALID_ARGUMENT', /content/],
        [JSON.stringify({ ...single, message_type: 'video' }), 'INVALID_ARGUMENT', /message_type/],
        [JSON.stringify({ ...single, client_msg_id: 'has space' }), 'INVALID_ARGUMENT', /client_msg_id/],
        [JSON.stringify({ ...single, priority: 1 }), 'INVALID_ARGUMENT', /unknown field priority/],
        [JSON.stringify({ ...groupSend, receiver_id: bob }), 'INVALID_ARGUMENT', /receiver_id/],
        [JSON.stringify({ sender_id: alice, content: 'no receiver' }), 'INVALID_ARGUMENT', /receiver_id/],
        ['"a string"', 'INVALID_ARGUMENT', /JSON object/],
        ['42', 'INVALID_ARGUMENT', /JSON object/],
        ['null', 'INVALID_ARGUMENT', /JSON object/],
        ['[]', 'INVALID_ARGUMENT', /JSON object/],
        [JSON.stringify({ ...single, receiver_id: unknownUser }), 'NOT_FOUND', /receiver_id/, 'UNKNOWN_USER'],
        [JSON.stringify({ ...single, sender_id: unknownUser }), 'NOT_FOUND', /sender_id/, 'UNKNOWN_USER'],
        [JSON.stringify({ ...groupSend, group_id: unknownGroup }), 'NOT_FOUND', /group_id/, 'UNKNOWN_GROUP'],
        [JSON.stringify({ ...groupSend, sender_id: carol }), 'PERMISSION_DENIED', /member/, 'NOT_A_MEMBER'],
      ];
      const res = await send('POST', '/v1/messages/batch', `{"messages":[${items.map(([text]) => text).join(',')}]}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(typeof res.headers['x-request-id'] === 'string' && res.headers['x-request-id'].length > 0);
      const results = res.json().results as { error?: { code: string; message: string }; message_id?: string }[];
      assert.equal(results.length, items.length);
      results.forEach((r, i) => {
        const [text, code, mentions] = items[i]!;
        assert.equal(r.message_id, undefined, `item ${i} ${text.slice(0, 80)} was accepted`);
        assert.deepEqual(Object.keys(r), ['error'], `item ${i}`);
        assert.deepEqual(Object.keys(r.error!).sort(), ['code', 'message', 'reason']);
        assert.equal(r.error!.code, code, `item ${i} ${text.slice(0, 80)}: ${r.error!.message}`);
        if (code === 'INVALID_ARGUMENT') assert.ok(r.error!.message.startsWith(`messages[${i}]: `), `item ${i} names its index: ${r.error!.message}`);
        assert.match(r.error!.message, mentions, `item ${i}`);
        const reason = items[i]![3];
        if (reason) assert.equal((r.error as { reason?: string }).reason, reason, `item ${i}`);
      });
    });
  });

  it('echoes a well-formed x-request-id and replaces a malformed one', async () => {
    const given = await send('POST', '/v1/messages', '{', { 'x-request-id': 'bad-input-req.1:x' });
    assertContractError(given, 400, 'INVALID_ARGUMENT');
    assert.equal(given.headers['x-request-id'], 'bad-input-req.1:x');
    const malformed = await send('POST', '/v1/messages', '{', { 'x-request-id': 'has space\tand tab' });
    assertContractError(malformed, 400, 'INVALID_ARGUMENT');
    assert.notEqual(malformed.headers['x-request-id'], 'has space\tand tab');
    const unauthenticated = await send('GET', `/v1/users/${alice}/offline-messages`, undefined, { authorization: undefined, 'x-request-id': 'no-token-1' });
    assertContractError(unauthenticated, 401, 'UNAUTHENTICATED');
    assert.equal(unauthenticated.headers['x-request-id'], 'no-token-1');
  });

  it('answers a path whose percent-encoding is invalid with the contract error shape', async () => {
    for (const url of [`/v1/users/%C3%28/offline-messages`, '/v1/users/%/offline-messages', `/v1/groups/%E0%A4%A/members`, '/v1/messages/%FF?user_id=1']) {
      assertContractError(await send('GET', url), 400, 'INVALID_ARGUMENT');
      assertContractError(await send('GET', url, undefined, { authorization: undefined }), 401, 'UNAUTHENTICATED');
    }
  });

  it('answers a path id longer than the router allows as a bad id (400), not 414', async () => {
    assertContractError(await send('GET', `/v1/users/${'1'.repeat(201)}/offline-messages`), 400, 'INVALID_ARGUMENT', /user_id/);
    assertContractError(await send('PUT', `/v1/users/${'9'.repeat(300)}`, { name: 'x' }), 400, 'INVALID_ARGUMENT', /user_id/);
  });

  it('asks for the token on a /v1 path written with percent-encoded characters', async () => {
    for (const [method, url] of [
      ['GET', `/%76%31/users/${alice}/offline-messages`],
      ['GET', `/%761/groups/${group}/members`],
      ['GET', `/v%31/users/${alice}/conversations`],
      ['DELETE', `/%76%31/presence/${freshUser}`],
    ] as const) {
      assertContractError(await send(method, url, undefined, { authorization: undefined }), 401, 'UNAUTHENTICATED');
    }
  });

  // ---------------------------------------------------------------------------------------------

  const count = async (table: string) => {
    const [rows] = await db.pool.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${table}\``);
    return Number(rows[0]!.n);
  };
  const persistJobs = async () => {
    const q = new Queue('im.persist', { connection: { url: testServers().redisUrl } as never, prefix });
    try {
      const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children');
      const jobs = await q.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized']);
      return { counts, jobs };
    } finally {
      await q.close();
    }
  };

  it('created no row, job, seq, dedupe record, presence or notification for any refused request', async () => {
    const [users] = await db.pool.query<RowDataPacket[]>('SELECT id FROM `user` ORDER BY id');
    assert.deepEqual(users.map((r) => String(r.id)).sort(), [...created.users].sort(), 'only the users made on purpose');
    const [groups] = await db.pool.query<RowDataPacket[]>('SELECT id FROM im_group');
    assert.deepEqual(groups.map((r) => String(r.id)), created.groups, 'only the group made on purpose');
    const [members] = await db.pool.query<RowDataPacket[]>('SELECT group_id, user_id FROM group_member ORDER BY user_id');
    assert.deepEqual(members.map((r) => `${r.group_id}/${r.user_id}`).sort(), created.members.map((m) => `${group}/${m}`).sort(), 'only the members added on purpose');
    for (const table of ['message_history', 'offline_message', 'conversation_cursor', 'conversation_state', 'user_conversation']) {
      assert.equal(await count(table), 0, `no row in ${table}`);
    }

    const { counts, jobs } = await persistJobs();
    assert.deepEqual(jobs, [], 'no job in im.persist');
    for (const [state, n] of Object.entries(counts)) assert.equal(n, 0, `no ${state} job in im.persist`);

    // No seq was issued and no dedupe record made: a refused send never reached admission.
    const shard = topology({ prefix, shards: 1 }).shard(0);
    assert.equal(await redis.exists(shard.keys.seq(`s:${alice}:${bob}`), shard.keys.seq(`g:${group}`), shard.keys.seq(`s:${alice}:${unknownUser}`)), 0, 'no seq counter');
    assert.deepEqual(await redis.keys(shard.keys.dedupe(alice, '*')), [], 'no dedupe record');
    assert.equal(await redis.exists(keys.presence(freshUser)), 0, 'no presence key from a refused heartbeat');

    // Refused notifications were never published: a good one sent now is the first to arrive.
    const sentinel = `sentinel ${uniqueName('n')}`;
    const ok = await send('POST', '/v1/notifications', { content: sentinel });
    assert.equal(ok.statusCode, 202, ok.body);
    await waitFor('the sentinel notification', () => notifications.some((n) => JSON.parse(n).content === sentinel));
    // Other test files run beside this one and publish notifications of their own on the same
    // channel: what this test's refused requests would have published carries the table's valid
    // content, or content no valid request has.
    const ours = (content: unknown) => content === sentinel || content === 'refused notification' || typeof content !== 'string' || content.length === 0 || content.length > 4096;
    assert.deepEqual(
      notifications.map((n) => JSON.parse(n).content).filter(ours),
      [sentinel],
      'no refused notification was published',
    );
  });

  it('stores injection strings verbatim: the queued job carries them byte for byte', async () => {
    const accepted = new Map<string, string>();
    for (const content of INJECTIONS) {
      const res = await send('POST', '/v1/messages', { sender_id: alice, receiver_id: bob, content });
      assert.equal(res.statusCode, 202, res.body);
      accepted.set(res.json().message_id, content);
    }
    // As a group message and inside a batch too.
    const g = await send('POST', '/v1/group-messages', { sender_id: alice, group_id: group, content: INJECTIONS[0] });
    assert.equal(g.statusCode, 202, g.body);
    accepted.set(g.json().message_id, INJECTIONS[0]!);
    const batch = await send('POST', '/v1/messages/batch', { messages: INJECTIONS.slice(1, 4).map((content) => ({ sender_id: bob, receiver_id: alice, content })) });
    assert.equal(batch.statusCode, 200, batch.body);
    batch.json().results.forEach((r: { message_id: string }, i: number) => accepted.set(r.message_id, INJECTIONS[1 + i]!));

    const { jobs } = await persistJobs();
    const queued = jobs.flatMap((j) => (j.data as { messages: { message_id: string; content: string }[] }).messages);
    assert.equal(queued.length, accepted.size, 'exactly the accepted sends are queued, nothing else');
    for (const m of queued) {
      const expected = accepted.get(m.message_id);
      assert.notEqual(expected, undefined, `queued message ${m.message_id} was accepted here`);
      assert.ok(Buffer.from(m.content, 'utf8').equals(Buffer.from(expected!, 'utf8')), `byte-exact: ${JSON.stringify(m.content)} vs ${JSON.stringify(expected)}`);
    }
    assert.equal(await count('message_history'), 0, 'no worker runs here, so no history row either');
  });
});

/**
 * Sends raw bytes on a TCP socket. `written` resolves once the bytes are handed to the kernel;
 * `done` with everything the server wrote, once the socket closes.
 */
function rawExchange(port: number, chunks: (string | Buffer)[]): { socket: Socket; written: Promise<void>; done: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  const done = new Promise<string>((resolve, reject) => {
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(received).toString('utf8')));
  });
  const written = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      let left = chunks.length;
      for (const c of chunks) socket.write(c, (err) => (err ? reject(err) : --left === 0 && resolve()));
    });
    socket.once('error', reject);
  });
  return { socket, written, done };
}

describe('injection strings and a slow client, through a real fleet', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  const base = randomUserBase();
  const sender = String(base + 1n);
  const receiver = String(base + 2n);
  const accepted = new Map<string, string>();

  const historyCount = async () => {
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history');
    return Number(rows[0]!.n);
  };

  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url).startAll(['ingest-api', 'worker-persist', 'worker-delivery']);
    assert.equal((await fleet.api.put(`/v1/users/${sender}`, { name: 'sender' })).status, 204);
    assert.equal((await fleet.api.put(`/v1/users/${receiver}`, { name: 'receiver' })).status, 204);
  });

  after(async () => {
    await fleet?.stop();
    await db?.drop();
  });

  it('returns injection strings byte-exact from the offline pull and from message_history', async () => {
    for (const content of INJECTIONS) {
      const r = await fleet.api.post('/v1/messages', { sender_id: sender, receiver_id: receiver, content });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      accepted.set(r.body.message_id, content);
    }
    const ids = [...accepted.keys()];
    const rows = await waitFor(
      'every injection string in message_history',
      async () => {
        const [r] = await db.pool.query<RowDataPacket[]>('SELECT message_id, HEX(content) AS hex, content FROM message_history WHERE message_id IN (?)', [ids]);
        return r.length === ids.length ? r : undefined;
      },
      30_000,
    );
    for (const row of rows) {
      const expected = accepted.get(String(row.message_id))!;
      assert.equal(String(row.hex), Buffer.from(expected, 'utf8').toString('hex').toUpperCase(), `stored bytes of ${JSON.stringify(expected)}`);
      assert.equal(row.content, expected);
    }
    assert.equal(await historyCount(), ids.length, 'the table is intact and holds nothing else');

    const pulled = await waitFor(
      'every injection string offline for the receiver',
      async () => {
        const r = await fleet.api.get(`/v1/users/${receiver}/offline-messages?limit=1000`);
        assert.equal(r.status, 200);
        return r.body.messages.length === ids.length ? (r.body.messages as { message_id: string; content: string; sender_name: string }[]) : undefined;
      },
      30_000,
    );
    for (const m of pulled) {
      const expected = accepted.get(m.message_id);
      assert.notEqual(expected, undefined);
      assert.ok(Buffer.from(m.content, 'utf8').equals(Buffer.from(expected!, 'utf8')), `pulled ${JSON.stringify(m.content)} vs ${JSON.stringify(expected)}`);
      assert.equal(m.sender_name, 'sender');
    }
  });

  it('survives a client that stalls mid-body and closes: healthy, and nothing created', async () => {
    const port = Number(new URL(fleet.baseUrl).port);
    const head = (length: number) =>
      [
        'POST /v1/messages HTTP/1.1',
        'Host: 127.0.0.1',
        `Authorization: Bearer ${TEST_TOKEN}`,
        'Content-Type: application/json',
        `Content-Length: ${length}`,
        'Connection: close',
        '',
        '',
      ].join('\r\n');
    const json = (content: string) => JSON.stringify({ sender_id: sender, receiver_id: receiver, content });

    // The harness itself: the same request, complete, is accepted.
    const complete = json('raw complete');
    assert.ok(complete.length < 200);
    const whole = rawExchange(port, [head(200), complete.padEnd(200, ' ')]);
    const answer = await whole.done;
    assert.match(answer, /^HTTP\/1\.1 202 /, answer);
    accepted.set(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).message_id, 'raw complete');

    // Now a body that is valid JSON on its own but shorter than its Content-Length of 200.
    const marker = `slow ${uniqueName('p')}`;
    const partial = json(marker);
    assert.ok(partial.length < 200, `the partial body is ${partial.length} bytes`);
    const slow = rawExchange(port, [head(200), partial]);
    await slow.written;
    // While it stalls, the server serves everyone else.
    assert.equal((await fetch(`${fleet.baseUrl}/health`)).status, 200);
    const during = await fleet.api.post('/v1/messages', { sender_id: sender, receiver_id: receiver, content: 'while a client stalls' });
    assert.equal(during.status, 202);
    accepted.set(during.body.message_id, 'while a client stalls');
    slow.socket.end();
    const slowAnswer = await slow.done;
    assert.doesNotMatch(slowAnswer, /^HTTP\/1\.1 2\d\d /, `the truncated request was not accepted: ${slowAnswer}`);

    const health = await fetch(`${fleet.baseUrl}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal((await fetch(`${fleet.baseUrl}/ready`)).status, 200);

    // A send after the aborted one is persisted; by then the aborted one would be too, had it been accepted.
    const after = await fleet.api.post('/v1/messages', { sender_id: sender, receiver_id: receiver, content: 'after the slow client' });
    assert.equal(after.status, 202);
    accepted.set(after.body.message_id, 'after the slow client');
    await waitFor(
      'the sends around the slow client in history',
      async () => {
        const [r] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE message_id IN (?)', [[...accepted.keys()]]);
        return Number(r[0]!.n) === accepted.size;
      },
      30_000,
    );
    const [marked] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE content = ?', [marker]);
    assert.equal(Number(marked[0]!.n), 0, 'the truncated body created no message');
    assert.equal(await historyCount(), accepted.size, 'history holds exactly the accepted sends');
    assert.equal(fleet.procs.get('ingest-api')!.child.exitCode, null, 'ingest-api is still running');
  });
});
