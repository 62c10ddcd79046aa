import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { freePort, Fleet } from '../support/fleet';
import { randomUserBase, TEST_TOKEN, testServers } from '../support/env';
import { waitFor } from '../support/wait';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the im-message command line against the real fleet', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  const base = randomUserBase();
  const [ann, bob, cid] = [String(base + 1n), String(base + 2n), String(base + 3n)];
  const group = String(base + 10n);

  const env = () => {
    const e: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IM_')) e[k] = v;
    return {
      ...e,
      REDIS_URL: testServers().redisUrl,
      MYSQL_URL: db.url,
      IM_API_TOKENS: TEST_TOKEN,
      IM_QUEUE_PREFIX: fleet.prefix,
      IM_MESSAGE_SERVICE_PORT: String(fleet.procs.get('ingest-api')!.port),
    };
  };
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['apps/cli/bin/im-message.mjs', ...args], { cwd: ROOT, env: env(), encoding: 'utf8', timeout: 30_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const json = (...args: string[]) => {
    const r = cli(...args, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };

  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url).startAll(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
    for (const [u, name] of [[ann, 'ann'], [bob, 'bob'], [cid, 'cid']] as const) await fleet.api.put(`/v1/users/${u}`, { name });
    await fleet.api.put(`/v1/groups/${group}`, { name: 'cli group' });
    await fleet.api.post(`/v1/groups/${group}/members`, { add: [ann, bob, cid] });
  });

  after(async () => {
    await fleet?.stop();
    await db?.drop();
  });

  it('explains itself: --help on every command, usage errors exit 2', () => {
    const help = cli('--help');
    assert.equal(help.code, 0);
    for (const c of ['send', 'send-group', 'pull', 'tail', 'queues', 'failed', 'retrying', 'retry', 'migrate', 'status', 'partitions', 'reshard']) {
      assert.match(help.stdout, new RegExp(`\\b${c}\\b`));
      const h = cli(c, '--help');
      assert.equal(h.code, 0, c);
      assert.match(h.stdout, new RegExp(`usage: im-message ${c}`));
    }
    const bad = cli('frobnicate');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command "frobnicate"/);
    const noQueue = cli('failed', 'nope');
    assert.equal(noQueue.code, 1);
    assert.match(noQueue.stderr, /give a queue/);
  });

  it('sends, sends to a group, and pulls with the cursor', async () => {
    const human = cli('send', '--from', ann, '--to', bob, '--text', 'hi from the terminal 👋');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^accepted: message_id \d+, seq 1/);
    const second = json('send', '--from', ann, '--to', bob, '--text', 'second', '--client-msg-id', 'cli-2');
    const group1 = json('send-group', '--from', ann, '--group', group, '--text', 'to the group');
    assert.match(group1.message_id, /^\d+$/);
    const refused = cli('send', '--from', ann, '--to', String(base + 99n), '--text', 'nobody');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /404 NOT_FOUND/);

    const page = await waitFor('three offline messages for bob', async () => {
      const p = json('pull', bob, '--limit', '2');
      return p.messages.length === 2 ? p : undefined;
    });
    assert.equal(page.has_more, true);
    const text = cli('pull', bob, '--limit', '2');
    assert.match(text.stdout, /ann: hi from the terminal 👋/);
    assert.match(text.stdout, /more waiting: im-message pull \d+ --after \d+/);
    const rest = await waitFor('the group message', async () => {
      const p = json('pull', bob, '--after', page.messages[1].message_id);
      return p.messages.length === 1 ? p : undefined;
    });
    assert.equal(rest.messages[0].message_id, group1.message_id);
    assert.equal(rest.messages[0].group_name, 'cli group');
    assert.notEqual(second.message_id, undefined);
  });

  it('tails a user channel live', async () => {
    const tail = spawn(process.execPath, ['apps/cli/bin/im-message.mjs', 'tail', cid], { cwd: ROOT, env: env() });
    let output = '';
    tail.stdout.on('data', (c: Buffer) => (output += c.toString()));
    let errors = '';
    tail.stderr.on('data', (c: Buffer) => (errors += c.toString()));
    try {
      await waitFor('tail listening', () => errors.includes('listening on user:'));
      await fleet.api.put(`/v1/presence/${cid}`, { gateway_id: 'cli' });
      await fleet.api.post('/v1/messages', { sender_id: ann, receiver_id: cid, content: 'live line' });
      await waitFor('the message on the tail', () => output.includes('live line'));
      assert.match(output, /user:\d+ {2}message {2}\d+ {2}from \d+: live line/);
    } finally {
      tail.kill('SIGINT');
    }
  });

  it('shows queues and a status snapshot', () => {
    const rows = json('queues');
    assert.deepEqual(rows.map((r: any) => r.queue).sort(), ['im.cleaner', 'im.deliver', 'im.fanout', 'im.hook', 'im.persist', 'im.push']);
    for (const r of rows) for (const k of ['waiting', 'active', 'delayed', 'failed']) assert.equal(typeof r[k], 'number');
    const status = cli('status', '--once', '--interval', '0.3', '--json');
    assert.equal(status.code, 0, status.stderr);
    const snapshots = status.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const last = snapshots.at(-1);
    const persist = last.queues.find((q: any) => q.queue === 'im.persist');
    assert.ok(persist.done_total >= 3, 'persist jobs done so far are counted');
    assert.equal(typeof persist.done_per_s, 'number');
  });

  it('lists jobs retrying while MySQL is down, and they land by themselves once it is back', async () => {
    await fleet.kill('worker-persist', 'SIGTERM');
    // A persist worker whose MySQL is unreachable: the job retries (capped backoff) instead of failing.
    const broken = new Fleet(`mysql://im:im@127.0.0.1:${await freePort()}/gone`, { IM_QUEUE_PREFIX: fleet.prefix });
    await broken.start('worker-persist', { until: 'health' });
    const sent = json('send', '--from', bob, '--to', ann, '--text', 'written while MySQL was away');
    const retrying = await waitFor('a persist job waiting to retry', async () => {
      const list = json('retrying', 'persist');
      return list.length > 0 ? list : undefined;
    });
    assert.match(retrying[0].reason, /ECONNREFUSED|connect/i);
    assert.match(cli('retrying', 'persist').stdout, /\d+ attempt\(s\) {2}next \d{4}-.*(ECONNREFUSED|connect)/);
    await waitFor('a few more attempts', async () => json('retrying', 'persist')[0]?.attempts >= 4);
    assert.deepEqual(json('failed', 'persist'), [], 'an outage does not fail a job, however many attempts it takes');
    await broken.stop();

    await fleet.start('worker-persist');
    await waitFor('the message in history, without any operator step', async () => {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE message_id = ?', [sent.message_id]);
      return Number(rows[0]!.n) === 1;
    });
    assert.deepEqual(json('retrying', 'persist'), []);
  });

  it('lists jobs that can never succeed as failed; retry puts each back once and ends though they fail again at once', async () => {
    const redis = new Redis(testServers().redisUrl);
    const queue = new Queue('im.persist', { connection: redis, prefix: fleet.prefix });
    try {
      // Invalid payloads (no messages): refused without retry, and again each time they are retried.
      const count = 300;
      await queue.addBulk(Array.from({ length: count }, () => ({ name: 'persist', data: { messages: [] } })));
      const failed = await waitFor('the invalid jobs in the failed set', async () => {
        const list = json('failed', 'persist', '--limit', '1000');
        return list.length === count ? list : undefined;
      });
      assert.match(failed[0].reason, /invalid im\.persist job/);
      assert.match(cli('failed', 'persist', '--limit', '1').stdout, /^im\.persist {2}\d+ {2}1 attempt\(s\) {2}\d{4}-.*invalid im\.persist job/);
      // While retry walks the set, the worker fails them again: each is retried once, and retry ends.
      const r = cli('retry', 'persist');
      assert.equal(r.code, 0, `retry did not end: ${r.stderr.slice(-300)}`);
      assert.match(r.stdout, new RegExp(`^${count} failed job\\(s\\) of im\\.persist back to waiting`));
      await waitFor('all failed a second time', async () => (await queue.getFailed(0, count)).filter((j) => j.attemptsMade >= 2).length === count);
    } finally {
      await queue.clean(0, 1000, 'failed');
      await queue.close();
      redis.disconnect();
    }
  });

  it('migrates (nothing left to apply on a migrated database)', () => {
    const r = cli('migrate');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /schema at version \d+ \(0 applied now\)/);
  });

  it('lists the partitions of a new installation, and enable knows it is done', () => {
    const list = cli('partitions');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^p\d{6} +< \d+ +~\d+ rows$/m);
    assert.match(list.stdout, /^p_future +< MAXVALUE/m);
    const parts = json('partitions', 'list');
    assert.equal(parts.at(-1).name, 'p_future');
    const enable = cli('partitions', 'enable');
    assert.equal(enable.code, 0, enable.stderr);
    assert.match(enable.stdout, /already partitioned/);
    const bad = cli('partitions', 'shred');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown action "shred": give list or enable/);
  });

  it('says in one line which Redis or MySQL it could not reach, where the address came from, and how to change it', async () => {
    const port = await freePort();
    const redisDown = spawnSync(process.execPath, [join(ROOT, 'apps/cli/bin/im-message.mjs'), 'queues'], {
      cwd: ROOT,
      env: { ...env(), REDIS_URL: `redis://127.0.0.1:${port}` },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(redisDown.status, 1);
    const lines = redisDown.stderr.trim().split('\n');
    assert.equal(lines.length, 1, redisDown.stderr);
    assert.match(lines[0]!, new RegExp(`^im-message: cannot reach Redis at redis://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\); that address came from environment REDIS_URL\\. Start the local stack with npm start, or point the CLI elsewhere: REDIS_URL=\\.\\.\\., IM_QUEUE_REDIS_URL=\\.\\.\\. or -c FILE$`));

    for (const args of [['migrate'], ['partitions']]) {
      const mysqlDown = spawnSync(process.execPath, [join(ROOT, 'apps/cli/bin/im-message.mjs'), ...args], {
        cwd: ROOT,
        env: { ...env(), MYSQL_URL: `mysql://im:secret@127.0.0.1:${port}/im` },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(mysqlDown.status, 1, args.join(' '));
      assert.equal(mysqlDown.stderr.trim().split('\n').length, 1, mysqlDown.stderr);
      assert.match(mysqlDown.stderr, new RegExp(`cannot reach MySQL at mysql://im:\\*\\*\\*@127\\.0\\.0\\.1:${port}/im .*environment MYSQL_URL.*MYSQL_URL=\\.\\.\\.`));
      assert.ok(!mysqlDown.stderr.includes('secret'), 'the password is not printed');
    }
  });

  it('finds the local stack without exports, from the file npm start leaves', () => {
    // What scripts/start.mjs writes to .stack/dev/im-message.ini, here in a directory of its own.
    const dir = mkdtempSync(join(tmpdir(), 'im-cli-'));
    try {
      mkdirSync(join(dir, '.stack', 'dev'), { recursive: true });
      const port = fleet.procs.get('ingest-api')!.port;
      writeFileSync(
        join(dir, '.stack', 'dev', 'im-message.ini'),
        `[queue]\nredis_url = ${testServers().redisUrl}\nprefix = ${fleet.prefix}\n[mysql]\nurl = ${db.url}\n[auth]\napi_tokens = ${TEST_TOKEN}\n[message_service]\nport = ${port}\n`,
      );
      const bare: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IM_') && k !== 'REDIS_URL' && k !== 'MYSQL_URL') bare[k] = v;
      const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'apps/cli/bin/im-message.mjs'), ...args], { cwd: dir, env: bare, encoding: 'utf8', timeout: 30_000 });
      const queues = run('queues', '--json');
      assert.equal(queues.status, 0, queues.stderr);
      assert.deepEqual(JSON.parse(queues.stdout).map((r: any) => r.queue).sort(), ['im.cleaner', 'im.deliver', 'im.fanout', 'im.hook', 'im.persist', 'im.push']);
      const sent = run('send', '--from', ann, '--to', bob, '--text', 'no exports needed', '--json');
      assert.equal(sent.status, 0, sent.stderr);
      assert.match(JSON.parse(sent.stdout).message_id, /^\d+$/);
      const parts = run('partitions', '--json');
      assert.equal(parts.status, 0, parts.stderr);
      assert.equal(JSON.parse(parts.stdout).at(-1).name, 'p_future');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
