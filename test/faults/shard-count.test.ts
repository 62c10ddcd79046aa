import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { RowDataPacket } from 'mysql2/promise';
import { closeRedis, topology, type Redis } from '@im/redis';
import { apiClient } from '../support/api';
import { createTestDatabase, waitAllInHistory, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testRedis, testServers } from '../support/env';
import { Fleet } from '../support/fleet';
import { waitFor } from '../support/wait';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** message_service.request_timeout_ms, the default. */
const BOUND_MS = 3000;

/**
 * The shard count belongs to the deployment: a rolling update that starts an ingest-api with
 * another queue.shards follows the deployment's, and `im-message reshard N` changes it under load
 * without repeating a seq or stranding a send. Two ingest-api processes take the sends in turn,
 * each send with its client_msg_id, retried on 503 as the contract says.
 */
describe('the shard count belongs to the deployment', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let second: Fleet;
  let redis: Redis;
  const base = randomUserBase();
  const users = Array.from({ length: 9 }, (_, i) => String(base + BigInt(i + 1)));
  /** 8 conversations: user 0 with each of the others. */
  const peers = users.slice(1);

  before(async () => {
    db = await createTestDatabase();
    // Supervised, as in production: a process that stops to follow a reshard is started again.
    fleet = await new Fleet(db.url, { IM_QUEUE_SHARDS: '1' }, [], { restartOnExit: true }).startAll(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
    for (const u of users) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: u })).status, 204);
    redis = testRedis();
  });

  after(async () => {
    await second?.stop();
    await fleet?.stop();
    if (redis) await closeRedis(redis);
    await db?.drop();
  });

  /** Every message answered 202 is in history once; no seq twice in a conversation; no client_msg_id twice; no failed job. */
  async function holdsEverything(accepted: Map<string, string>, tag: string, shards: number): Promise<void> {
    const ids = [...accepted.values()];
    await waitAllInHistory(db, ids, 60_000);
    const [dupSeqs] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM (SELECT conversation, seq FROM message_history GROUP BY conversation, seq HAVING COUNT(*) > 1) d');
    assert.equal(Number(dupSeqs[0]!.n), 0, 'no (conversation, seq) twice');
    const [dupIds] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM (SELECT sender_id, client_msg_id FROM message_history WHERE client_msg_id IS NOT NULL GROUP BY sender_id, client_msg_id HAVING COUNT(*) > 1) d');
    assert.equal(Number(dupIds[0]!.n), 0, 'no client_msg_id twice');
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE client_msg_id LIKE ?', [`${tag}-%`]);
    assert.equal(Number(rows[0]!.n), accepted.size, 'nothing in history that was not answered 202');
    // Nobody is online: every message is routed to an offline row.
    await waitFor(
      'every message routed',
      async () => {
        const [r] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message WHERE message_id IN (?)', [ids]);
        return Number(r[0]!.n) === ids.length;
      },
      60_000,
    );
    // Nothing left in any queue of any shard, the shards that went away included.
    const queues = topology({ prefix: fleet.prefix, shards: Math.max(shards, 4) }).all.flatMap((shard) =>
      (['im.persist', 'im.fanout', 'im.deliver'] as const).map((stage) => ({ label: shard.label(stage), q: new Queue(stage, { connection: redis, prefix: shard.queuePrefix }) })),
    );
    try {
      const left = await waitFor(
        'every queue of every shard drained',
        async () => {
          const counts = await Promise.all(queues.map(async ({ label, q }) => ({ label, c: await q.getJobCounts('waiting', 'active', 'delayed', 'failed') })));
          const busy = counts.filter(({ c }) => (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.failed ?? 0) > 0);
          return busy.length === 0 ? busy : undefined;
        },
        30_000,
      );
      assert.deepEqual(left, []);
    } finally {
      await Promise.all(queues.map(({ q }) => q.close()));
    }
  }

  /** Sends in turn through the ingest processes, each retried with its client_msg_id until answered 202; returns client_msg_id -> message_id. */
  function sendAlternating(apis: () => ReturnType<typeof apiClient>[], tag: string, until: () => boolean) {
    const accepted = new Map<string, string>();
    let slowest = 0;
    let n = 0;
    const loop = (async () => {
      while (!until()) {
        const i = n++;
        const body = { sender_id: users[0], receiver_id: peers[i % peers.length], content: `${tag} ${i}`, client_msg_id: `${tag}-${i}` };
        for (let attempt = 0; ; attempt++) {
          const list = apis();
          const started = Date.now();
          const r = await list[(i + attempt) % list.length]!.post('/v1/messages', body).catch((err: Error) => ({ status: 0, body: { err: err.message }, headers: {} }));
          slowest = Math.max(slowest, Date.now() - started);
          if (r.status === 202) {
            accepted.set(body.client_msg_id, r.body.message_id);
            break;
          }
          assert.ok(r.status === 503 || r.status === 0, `a send got ${r.status}: ${JSON.stringify(r.body)}`);
          await new Promise((res) => setTimeout(res, 100));
        }
      }
    })();
    return { accepted, loop, slowest: () => slowest };
  }

  it('a rolling update that starts an ingest-api with queue.shards = 4 beside a fleet of one shard: it follows the deployment', async () => {
    second = await new Fleet(db.url, { IM_QUEUE_SHARDS: '4' }, [], { prefix: fleet.prefix }).startAll(['ingest-api']);
    let sent = 0;
    const load = sendAlternating(() => [fleet.api, second.api], 'rolling', () => sent++ >= 320);
    await load.loop;
    assert.equal(load.accepted.size, 320);
    await holdsEverything(load.accepted, 'rolling', 4);
    assert.ok(load.slowest() <= BOUND_MS + 500, `the slowest answer took ${load.slowest()} ms`);
    assert.match(second.logs('ingest-api'), /following the deployment/, 'the new process says what it follows');
  });

  it('im-message reshard 3 under steady sends through two ingest-api: nothing repeated, nothing stranded, every process on the new layout', async () => {
    let stop = false;
    const load = sendAlternating(() => [fleet.api, second.api], 'reshard', () => stop);
    await waitFor('sends under way', () => load.accepted.size > 100, 30_000);
    const { redisUrl } = testServers();
    const cli = spawn(process.execPath, ['apps/cli/bin/im-message.mjs', 'reshard', '3', '--json'], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redisUrl, MYSQL_URL: db.url, IM_API_TOKENS: TEST_TOKEN, IM_QUEUE_PREFIX: fleet.prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    cli.stdout.on('data', (c) => (stdout += c));
    cli.stderr.on('data', (c) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout);
    assert.equal(report.from, 1);
    assert.equal(report.to, 3);
    // Every process stops to follow the new generation; the supervisor (and this test, for the
    // second ingest) starts it again.
    await waitFor('the fleet restarted on the new layout', () => (['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery'] as const).every((r) => (fleet.restarts.get(r) ?? 0) >= 1), 30_000);
    await waitFor('the second ingest-api stopped to follow', () => second.procs.get('ingest-api')!.child.exitCode !== null, 30_000);
    await second.start('ingest-api');
    const before = load.accepted.size;
    await waitFor('sends accepted on the new layout', () => load.accepted.size > before + 200, 60_000);
    stop = true;
    await load.loop;
    await holdsEverything(load.accepted, 'reshard', 3);
    // Conversations moved to shards that did not exist before: their messages went through them.
    const [moved] = await db.pool.query<RowDataPacket[]>('SELECT DISTINCT conversation FROM message_history');
    const used = new Set(moved.map((r) => topology({ prefix: fleet.prefix, shards: 3 }).of(String(r.conversation)).index));
    assert.ok(used.size > 1, `the 8 conversations spread over ${used.size} of the 3 shards`);
  });
});
