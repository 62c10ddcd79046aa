// The bench's load generator (bench/wrk.ts, bench/wrk/send.lua) against the real ingest app: every
// body it sends is a valid send (the app answers 202 to each), with its own client_msg_id and
// sender/receiver pair, and at a constant rate the due times follow the schedule. No timing is
// asserted: speed is the bench's business.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { loadConfig } from '@im/config';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import { createIngest } from '../../apps/ingest-api/src/ingest';
import { runWrk, wrkPath } from '../../bench/wrk';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testServers, uniqueName } from '../support/env';

const skip = wrkPath() ? false : 'wrk is not installed (Debian: apt-get install wrk; npm run bench installs it where it can)';

describe('the bench load generator sends valid, distinct single sends', { skip }, () => {
  let db: TestDatabase;
  let ingest: Awaited<ReturnType<typeof createIngest>>;
  let url = '';
  const prefix = `{${uniqueName('imt')}}`;
  const base = randomUserBase();
  const users = Array.from({ length: 20 }, (_, i) => String(base + BigInt(i + 1)));
  const dir = mkdtempSync(join(tmpdir(), 'im-wrk-test-'));

  before(async () => {
    db = await createTestDatabase();
    await db.pool.query(`INSERT INTO \`user\` (id, name, created_at, updated_at) VALUES ${users.map(() => '(?, ?, 0, 0)').join(', ')}`, users.flatMap((u) => [u, `user ${u}`]));
    const config = loadConfig({ env: { REDIS_URL: testServers().redisUrl, MYSQL_URL: db.url, IM_API_TOKENS: TEST_TOKEN, IM_QUEUE_PREFIX: prefix, IM_RATE_LIMIT_PER_SENDER_PER_S: '0' } });
    ingest = await createIngest(config, createLogger('ingest-api', 'silent'), createMetrics('ingest-api'));
    url = await ingest.app.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    for (const [, run] of ingest.shutdownSteps) await run();
    const q = new Queue('im.persist', { connection: { url: testServers().redisUrl } as never, prefix });
    await q.obliterate({ force: true });
    await q.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const bodies = (file: string, threads: number) =>
    Array.from({ length: threads }, (_, t) => readFileSync(`${file}.${t}`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))).flat();

  it('as fast as answered: exactly the sends asked for, all accepted, no pair or client_msg_id twice', async () => {
    const dump = join(dir, 'closed');
    const r = await runWrk({ url, total: 300, connections: 8, threads: 2, senders: users, receivers: users, prefix: 'wt-c-', token: TEST_TOKEN, dump });
    assert.equal(r.complete, true);
    assert.equal(r.answered, 300);
    assert.equal(r.accepted, 300, `other answers: ${JSON.stringify(r.other_statuses)}`);
    assert.ok(r.cpu_s >= 0 && r.peak_rss > 0, 'wrk reports its own CPU and peak RSS');
    assert.ok(r.last_us >= r.first_us && r.first_us > 0);
    const sent = bodies(dump, 2);
    assert.equal(sent.length, 300);
    assert.equal(new Set(sent.map((b) => b.client_msg_id)).size, 300);
    assert.deepEqual(new Set(sent.map((b) => b.client_msg_id)), new Set(Array.from({ length: 300 }, (_, n) => `wt-c-${n}`)));
    assert.equal(new Set(sent.map((b) => `${b.sender_id}>${b.receiver_id}`)).size, 300, 'each request its own sender/receiver pair');
    for (const b of sent) {
      assert.notEqual(b.sender_id, b.receiver_id);
      assert.ok(users.includes(b.sender_id) && users.includes(b.receiver_id));
      assert.match(b.content, /^bench \d+ 你好 🚀 a=\d+$/);
    }
  });

  it('at a constant rate: receivers from their own list, each send stamped with its due time on the schedule', async () => {
    const dump = join(dir, 'rate');
    const receivers = users.slice(0, 10);
    const r = await runWrk({ url, total: 60, connections: 4, threads: 1, rate: 600, senders: users, receivers, prefix: 'wt-r-', token: TEST_TOKEN, dump });
    assert.equal(r.accepted, 60);
    const sent = bodies(dump, 1);
    assert.equal(sent.length, 60);
    const due = sent.map((b) => {
      const m = /^lat (\d+) s=(\d+) a=(\d+)$/.exec(b.content);
      assert.ok(m, b.content);
      assert.ok(receivers.includes(b.receiver_id));
      return Number(m[2]);
    });
    // Slot k is due at start + k / rate: 1,666.7 µs apart at 600/s (rounded down to whole µs).
    for (let k = 1; k < due.length; k++) assert.ok(Math.abs(due[k]! - due[k - 1]! - 1_000_000 / 600) <= 1, `due times ${due[k - 1]} then ${due[k]}`);
  });
});
