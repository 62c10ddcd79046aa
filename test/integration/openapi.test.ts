import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { ERROR_REASONS } from '@im/errors';
import { after, before, describe, it } from 'node:test';
import { lint, loadConfig as loadRedoclyConfig } from '@redocly/openapi-core';
import { loadConfig } from '@im/config';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import { ProcessHealth } from '@im/worker-kit';
import { registeredRoutes } from '../../apps/ingest-api/src/app';
import { GRPC_STATUS } from '../../apps/ingest-api/src/grpc/server';
import { createIngest } from '../../apps/ingest-api/src/ingest';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testServers, uniqueName } from '../support/env';
import { loadOpenApi, OpenApiValidator, type RecordedExchange } from '../support/openapi';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Fastify's `/v1/users/:user_id` as OpenAPI's `/v1/users/{user_id}`. */
const toTemplate = (url: string) => url.replace(/:(\w+)/g, '{$1}');
/** Swagger UI's own scripts and styles under /docs/ belong to the docs page, not to the API. */
const isDocsAsset = (url: string) => url.startsWith('/docs/');

describe('OpenAPI: docs/openapi.yaml against the routes and answers of ingest-api', () => {
  let db: TestDatabase;
  let ingest: Awaited<ReturnType<typeof createIngest>>;
  const base = randomUserBase();
  const alice = String(base + 1n);
  const bob = String(base + 2n);
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };

  before(async () => {
    db = await createTestDatabase();
    const config = loadConfig({ env: { REDIS_URL: testServers().redisUrl, MYSQL_URL: db.url, IM_API_TOKENS: TEST_TOKEN, IM_QUEUE_PREFIX: `{${uniqueName('imt')}}` } });
    ingest = await createIngest(config, createLogger('ingest-api', 'silent'), createMetrics('ingest-api'));
    await ingest.app.ready();
  });

  after(async () => {
    if (ingest) for (const [, run] of ingest.shutdownSteps) await run();
    await db?.drop();
  });

  /** A real answer of the in-process app, as the validator takes it. */
  async function exchange(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = auth): Promise<RecordedExchange> {
    const res = await ingest.app.inject({
      method,
      url,
      headers: { ...headers, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
      payload: payload === undefined ? undefined : JSON.stringify(payload),
    });
    const contentType = (res.headers['content-type'] as string | undefined) ?? null;
    const body = res.body === '' ? undefined : contentType?.startsWith('application/json') ? res.json() : res.body;
    return { method, path: url, status: res.statusCode, contentType, body, requestBody: payload, headers: res.headers as Record<string, string> };
  }

  it('passes the Redocly lint (recommended rules, exceptions only as listed with reasons in .redocly.lint-ignore.yaml)', async () => {
    const config = await loadRedoclyConfig({ configPath: `${ROOT}redocly.yaml` });
    const problems = await lint({ ref: `${ROOT}docs/openapi.yaml`, config });
    const open = problems.filter((p) => !p.ignored).map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    assert.deepEqual(open, []);
  });

  it('documents every registered route, and every documented route is registered', () => {
    const registered = new Set(
      registeredRoutes(ingest.app)
        .filter((r) => r.method !== 'HEAD' && !isDocsAsset(r.url))
        .map((r) => `${r.method} ${toTemplate(r.url)}`),
    );
    assert.ok(registered.size >= 20, `only ${registered.size} routes seen: is the onRoute hook in place?`);
    const documented = new Set(new OpenApiValidator().operations());
    assert.deepEqual([...registered].filter((r) => !documented.has(r)).sort(), [], 'registered but missing from docs/openapi.yaml');
    assert.deepEqual([...documented].filter((r) => !registered.has(r)).sort(), [], 'documented but not registered');
  });

  it('serves the document as /openapi.json and Swagger UI as /docs, without a token', async () => {
    const json = await exchange('GET', '/openapi.json', undefined, {});
    assert.equal(json.status, 200);
    assert.deepEqual(json.body, JSON.parse(JSON.stringify(loadOpenApi())));
    const page = await exchange('GET', '/docs', undefined, {});
    assert.equal(page.status, 200);
    assert.match(page.contentType ?? '', /^text\/html/);
    assert.match(String(page.body), /swagger-ui/i);
    const v = new OpenApiValidator();
    assert.deepEqual(v.check(json), []);
    assert.deepEqual(v.check(page), []);
    // The token is still needed everywhere else.
    assert.equal((await exchange('GET', `/v1/groups/${alice}/members`, undefined, {})).status, 401);
  });

  it('real answers, successes and the contract errors, validate', async () => {
    const v = new OpenApiValidator();
    const answers = [
      await exchange('PUT', `/v1/users/${alice}`, { name: 'alice' }),
      await exchange('PUT', `/v1/users/${bob}`, { name: 'bob' }),
      await exchange('POST', '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'hello', client_msg_id: 'oa-1' }),
      await exchange('POST', '/v1/messages', { sender_id: Number(9), receiver_id: bob, content: 'who?' }),
      await exchange('POST', '/v1/messages', { sender_id: alice, receiver_id: bob, content: '' }),
      await exchange('POST', '/v1/messages/batch', { messages: [{ sender_id: alice, receiver_id: bob, content: 'ok' }, { sender_id: alice, content: 'bad' }] }),
      await exchange('GET', `/v1/users/${bob}/offline-messages?limit=0`),
      await exchange('GET', `/v1/users/${bob}/history?peer_id=${alice}`),
      await exchange('GET', '/v1/users/abc/conversations'),
      await exchange('GET', '/health', undefined, {}),
      await exchange('GET', '/ready', undefined, {}),
      await exchange('GET', '/health/dependencies', undefined, {}),
      await exchange('GET', '/metrics', undefined, {}),
      await exchange('POST', '/v1/acks', { user_id: bob, message_ids: ['1'], status: 'read' }, {}),
      await exchange('GET', '/v1/no-such-route'),
    ];
    assert.deepEqual(
      answers.map((a) => a.status),
      [204, 204, 202, 404, 400, 200, 400, 200, 400, 200, 200, 200, 200, 401, 404],
    );
    for (const a of answers) assert.deepEqual(v.check(a), [], `${a.method} ${a.path}`);
  });

  it('lists the reasons of packages/errors, per code, and the contract lists them and the gRPC mapping of the code', () => {
    const doc = loadOpenApi();
    const schemas = doc.components.schemas as Record<string, any>;
    assert.deepEqual(schemas.ErrorReason.enum, Object.values(ERROR_REASONS).flat());
    for (const [code, reasons] of Object.entries(ERROR_REASONS)) {
      const name = `${code.toLowerCase().replace(/(^|_)(\w)/g, (_m: string, _s: string, c: string) => c.toUpperCase())}Error`;
      const own = schemas[name].allOf[1].properties.error.properties;
      assert.equal(own.code.const, code, name);
      assert.deepEqual(own.reason.enum, reasons, `${name} lists the reasons of ${code}`);
    }
    const contract = readFileSync(`${ROOT}docs/contract.md`, 'utf8');
    const section2 = contract.slice(contract.indexOf('## 2. Errors'), contract.indexOf('## 3.'));
    for (const reason of Object.values(ERROR_REASONS).flat()) assert.ok(section2.includes(`\`${reason}\``), `contract section 2 names ${reason}`);
    const grpcTable = section2.slice(section2.indexOf('| contract code | gRPC status |'));
    const rows = [...grpcTable.matchAll(/^\| `(\w+)` \| `(\w+)` \((\d+)\)/gm)].map((m) => [m[1], m[2], Number(m[3])]);
    assert.deepEqual(
      rows,
      (Object.entries(GRPC_STATUS) as [string, grpc.status][]).map(([code, status]) => [code, grpc.status[status], status]),
      'the contract maps each code to the gRPC status the server answers',
    );
  });

  it('answers /ready 503 with Retry-After and its reasons while the process is not ready', async () => {
    const health = new ProcessHealth();
    const config = loadConfig({ env: { REDIS_URL: testServers().redisUrl, MYSQL_URL: db.url, IM_API_TOKENS: TEST_TOKEN, IM_QUEUE_PREFIX: `{${uniqueName('imt')}}` } });
    const starting = await createIngest(config, createLogger('ingest-api', 'silent'), createMetrics('ingest-api'), { health });
    try {
      const res = await starting.app.inject({ method: 'GET', url: '/ready' });
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.headers['retry-after'], '1');
      assert.deepEqual(res.json(), { status: 'unavailable', reasons: ['starting'] });
      const v = new OpenApiValidator();
      const answer = { method: 'GET', path: '/ready', status: 503, contentType: String(res.headers['content-type']), body: res.json(), headers: res.headers as Record<string, string> };
      assert.deepEqual(v.check(answer), []);
      assert.match(v.check({ ...answer, headers: {} }).join(), /the required header retry-after is missing/);
    } finally {
      for (const [, run] of starting.shutdownSteps) await run();
    }
  });

  it('fails an answer whose shape drifted from the document', async () => {
    const sent = await exchange('POST', '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'drift' });
    assert.equal(sent.status, 202);
    const v = new OpenApiValidator();
    assert.deepEqual(v.check(sent), []);

    const drifted = (change: (b: Record<string, unknown>) => void) => {
      const body = structuredClone(sent.body) as Record<string, unknown>;
      change(body);
      return v.check({ ...sent, body });
    };
    assert.match(drifted((b) => (b.seq = String(b.seq))).join(), /\/seq must be integer/);
    assert.match(drifted((b) => delete b.timestamp).join(), /must have required property 'timestamp'/);
    assert.match(drifted((b) => (b.message_id = Number(b.message_id))).join(), /\/message_id must be string/);
    assert.match(drifted((b) => (b.extra = 1)).join(), /must NOT have additional properties \(extra\)/);
    assert.match(v.check({ ...sent, status: 200 }).join(), /status 200 is not documented for POST \/v1\/messages/);
    assert.match(v.check({ ...sent, contentType: 'text/plain' }).join(), /content type text\/plain is not documented/);
    assert.match(v.check({ ...sent, status: 400, body: { error: { code: 'NOT_FOUND', message: 'x' } } }).join(), /\/error\/code must be equal to constant/);
    const refused = { ...sent, status: 503, body: { error: { code: 'UNAVAILABLE', reason: 'OVERLOADED', message: 'busy', retry_after_s: 1 } } };
    assert.deepEqual(v.check({ ...refused, headers: { 'retry-after': '1' } }), []);
    assert.match(v.check({ ...refused, headers: {} }).join(), /the required header retry-after is missing/);
    assert.match(v.check({ ...refused, headers: { 'retry-after': 'soon' } }).join(), /header retry-after must be an integer/);
    assert.match(v.check({ ...refused, body: { error: { code: 'UNAVAILABLE', message: 'busy', retry_after_s: 1 } } }).join(), /must have required property 'reason'/);
    assert.match(v.check({ ...refused, body: { error: { code: 'UNAVAILABLE', reason: 'UNKNOWN_USER', message: 'busy', retry_after_s: 1 } } }).join(), /\/error\/reason must be equal to one of the allowed values/);
    assert.match(v.check({ method: 'GET', path: '/v2/anything', status: 200, contentType: 'application/json', body: {} }).join(), /no documented route/);
    assert.match(
      v.check({ ...sent, requestBody: { sender_id: alice, receiver_id: bob, content: 'x', priority: 'high' } }).join(),
      /accepted a request body the document refuses/,
    );

    // The same real answer against a document whose schema changed: the check is the document's, not a copy.
    const doc = loadOpenApi();
    (doc.components.schemas as any).SendResult.properties.seq = { type: 'string' };
    assert.match(new OpenApiValidator(doc).check(sent).join(), /\/seq must be string/);
  });
});
