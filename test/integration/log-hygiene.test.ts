import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '@im/config';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import { createIngest } from '../../apps/ingest-api/src/ingest';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testServers, uniqueName } from '../support/env';
import { Fleet } from '../support/fleet';
import { waitFor } from '../support/wait';

/**
 * docs/security.md: no message text in any log line, at any level. Errors are where text leaks:
 * mysql2 errors carry the interpolated SQL, ioredis errors the command's arguments (a job's JSON).
 * Each case forces such an error with a known marker in a message's content, checks that the
 * error was logged, and searches every log line for the marker.
 */
describe('no message text in any log, even when a command carrying it fails', () => {
  const marker = `MARKER-${uniqueName('txt')}`;
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });

  it('ingest-api: a search whose SQL fails logs the failure, not the keyword', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const prefix = `{${uniqueName('imt')}}`;
    const config = loadConfig({ env: { REDIS_URL: testServers().redisUrl, MYSQL_URL: db.url, IM_API_TOKENS: TEST_TOKEN, IM_QUEUE_PREFIX: prefix } });
    const ingest = await createIngest(config, createLogger('ingest-api', 'trace', sink), createMetrics('ingest-api'));
    try {
      const user = String(randomUserBase() + 1n);
      const auth = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
      const put = await ingest.app.inject({ method: 'PUT', url: `/v1/users/${user}`, headers: auth, payload: JSON.stringify({ name: 'n' }) });
      assert.equal(put.statusCode, 204);
      // The search reads history only for conversations the user is in.
      await db.pool.query('INSERT INTO user_conversation (user_id, conversation, peer_id, updated_at) VALUES (?, ?, ?, 1)', [user, `s:1:${user}`, '1']);
      await db.pool.query('RENAME TABLE message_history TO message_history_away');
      const keyword = `${marker}-kw`;
      const res = await ingest.app.inject({ method: 'GET', url: `/v1/users/${user}/search?keyword=${keyword}`, headers: auth });
      await db.pool.query('RENAME TABLE message_history_away TO message_history');
      assert.equal(res.statusCode, 500, res.body);
      const failure = lines.find((l) => l.includes('request failed'));
      assert.ok(failure, `the failure was logged (${lines.length} lines)`);
      assert.match(failure, /ER_NO_SUCH_TABLE/, 'the log keeps what went wrong');
      assert.deepEqual(lines.filter((l) => l.includes(marker)), []);
    } finally {
      for (const [, run] of ingest.shutdownSteps) await run();
    }
  });

  it('worker-persist: a Redis command whose arguments hold the job JSON fails', async () => {
    const fleet = new Fleet(db.url, { IM_LOG_LEVEL: 'trace' });
    const redis = new Redis(testServers().redisUrl);
    try {
      await fleet.startAll(['ingest-api', 'worker-persist']);
      const base = randomUserBase();
      const [a, b] = [String(base + 1n), String(base + 2n)];
      for (const u of [a, b]) await fleet.api.put(`/v1/users/${u}`, { name: 'n' });
      // BullMQ's add script pushes the job id onto the wait list: a string there fails it (WRONGTYPE).
      await redis.set(`${fleet.prefix}:im.deliver:wait`, 'not a list');
      const r = await fleet.api.post('/v1/messages', { sender_id: a, receiver_id: b, content: `hello ${marker} redis` });
      assert.equal(r.status, 202);
      await waitFor('two failed attempts in the worker log', () => (fleet.logs('worker-persist').match(/WRONGTYPE/g) ?? []).length >= 2, 30_000);
      await fleet.stop();
      assert.deepEqual(fleet.logs('worker-persist').split('\n').filter((l) => l.includes(marker)), []);
    } finally {
      await redis.del(`${fleet.prefix}:im.deliver:wait`);
      redis.disconnect();
      await fleet.stop();
    }
  });

  it('worker-persist: a multi-row INSERT that fails with every text of the batch in its SQL', async () => {
    // A trigger refuses the row carrying the marker, so the whole multi-row statement fails.
    await db.pool.query(
      `CREATE TRIGGER refuse_marker BEFORE INSERT ON message_history FOR EACH ROW
       BEGIN IF NEW.content LIKE '%SQLMARK%' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test trigger'; END IF; END`,
    );
    const fleet = await new Fleet(db.url, { IM_LOG_LEVEL: 'trace' }).startAll(['ingest-api', 'worker-persist']);
    try {
      const base = randomUserBase();
      const users = Array.from({ length: 5 }, (_, i) => String(base + BigInt(i + 1)));
      for (const u of users) await fleet.api.put(`/v1/users/${u}`, { name: `u${u}` });
      const messages = Array.from({ length: 40 }, (_, i) => ({
        sender_id: users[i % 5],
        receiver_id: users[(i + 1) % 5],
        content: i === 17 ? `text SQLMARK ${marker} 你好` : `plain ${i}`,
      }));
      const r = await fleet.api.post('/v1/messages/batch', { messages });
      assert.equal(r.status, 200);
      assert.ok(r.body.results.every((x: { message_id?: string }) => x.message_id), 'all accepted');
      await waitFor('two failed attempts in the worker log', () => (fleet.logs('worker-persist').match(/refused by the test trigger/g) ?? []).length >= 2, 30_000);
      await fleet.stop();
      for (const role of ['ingest-api', 'worker-persist'] as const) {
        const leaked = fleet.logs(role).split('\n').filter((l) => l.includes(marker));
        assert.deepEqual(leaked, [], `${role} logged the text`);
      }
    } finally {
      await fleet.stop();
    }
  });
});
