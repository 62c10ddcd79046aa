import { timingSafeEqual } from 'node:crypto';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { bearerAuth } from '../../apps/ingest-api/src/auth';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, testServers } from '../support/env';
import { Fleet } from '../support/fleet';
import { waitFor } from '../support/wait';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

describe('security basics', () => {
  it('accepts only a configured token, whatever its length or prefix', () => {
    const check = bearerAuth(['first-token-0123456789', 'second-token-abcdefghijkl']);
    check('Bearer first-token-0123456789');
    check('Bearer second-token-abcdefghijkl');
    for (const bad of [undefined, '', 'first-token-0123456789', 'Bearer ', 'Bearer first-token-012345678', 'Bearer first-token-01234567890', 'Bearer FIRST-TOKEN-0123456789', 'Basic first-token-0123456789', `Bearer ${'x'.repeat(300)}`, `Bearer first-token-0123456789${'\0'.repeat(10)}`]) {
      assert.throws(() => check(bad), (err: Error & { code?: string }) => err.code === 'UNAUTHENTICATED', `accepted ${JSON.stringify(bad)}`);
    }
  });

  it('compares the given token with every configured one, over one fixed width, whether it matches or not', () => {
    const tokens = ['first-token-0123456789', 'second-token-abcdefghijkl', 'third-token-short'];
    const seen: { widths: number[]; n: number } = { widths: [], n: 0 };
    const check = bearerAuth(tokens, (a, b) => {
      seen.n++;
      seen.widths.push(a.length, b.length);
      return timingSafeEqual(a, b);
    });
    for (const header of ['Bearer first-token-0123456789', 'Bearer third-token-short', 'Bearer wrong', `Bearer ${'x'.repeat(1000)}`]) {
      seen.n = 0;
      seen.widths = [];
      try {
        check(header);
      } catch {
        // a wrong token is refused; the comparisons are what is checked here
      }
      assert.equal(seen.n, tokens.length, `${header.slice(0, 30)}: every configured token compared, no early exit`);
      assert.deepEqual(new Set(seen.widths), new Set([256]), 'every comparison is 256 bytes wide');
    }
  });

  it('keeps Redis and MySQL credentials out of the code: only config and the environment carry them', () => {
    const offenders = sources(join(ROOT, 'apps'))
      .concat(sources(join(ROOT, 'packages')))
      .filter((f) => /(mysql|redis|rediss):\/\/[^'"`\s/]*:[^'"`\s@]*@/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
    const direct = sources(join(ROOT, 'apps'))
      .concat(sources(join(ROOT, 'packages')))
      .filter((f) => !f.includes('/packages/config/') && /process\.env\.(REDIS_URL|MYSQL_URL|IM_)/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(direct, [], 'nothing but the config package reads these variables');
  });

  it('runs the local stack on loopback only', { skip: process.env.REDIS_URL?.includes('127.0.0.1') ? false : 'servers are not the local stack' }, async () => {
    const redis = new Redis(testServers().redisUrl);
    const bind = (await redis.config('GET', 'bind')) as string[];
    redis.disconnect();
    for (const addr of bind[1]!.split(' ')) assert.match(addr, /^(127\.0\.0\.1|-?::1)$/, `redis binds ${addr}`);
    const db = await createTestDatabase();
    try {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT @@bind_address AS b');
      assert.equal(rows[0]!.b, '127.0.0.1');
    } finally {
      await db.drop();
    }
  });
});

describe('no message content in info logs', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url, { IM_LOG_LEVEL: 'info' }).startAll(['ingest-api', 'worker-persist', 'worker-delivery']);
  });
  after(async () => {
    await fleet?.stop();
    await db?.drop();
  });

  it('logs ids and counts at info level, never the text of a message', async () => {
    const base = randomUserBase();
    const [a, b] = [String(base + 1n), String(base + 2n)];
    await fleet.api.put(`/v1/users/${a}`, { name: 'a' });
    await fleet.api.put(`/v1/users/${b}`, { name: 'b' });
    const secret = `secret-content-${Date.now()}`;
    const sent = await fleet.api.post('/v1/messages', { sender_id: a, receiver_id: b, content: secret });
    assert.equal(sent.status, 202);
    await waitFor('offline row', async () => {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message WHERE message_id = ?', [sent.body.message_id]);
      return Number(rows[0]!.n) === 1;
    });
    // A refused send must not echo the content either.
    await fleet.api.post('/v1/messages', { sender_id: a, receiver_id: String(base + 99n), content: secret });
    await fleet.stop();
    for (const role of ['ingest-api', 'worker-persist', 'worker-delivery'] as const) {
      const logs = fleet.logs(role);
      assert.ok(logs.includes('"level":"info"'), `${role} logged at info level`);
      assert.ok(!logs.includes(secret), `${role} logged the message text`);
    }
  });
});
