import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, waitAllInHistory, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN } from '../support/env';
import { Fleet, freePort } from '../support/fleet';
import { PrivateMysql } from '../support/private-mysql';
import { waitFor } from '../support/wait';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const json = async (url: string) => {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as any };
};
const metric = async (url: string, series: string) => {
  const line = (await (await fetch(url)).text()).split('\n').find((l) => l.startsWith(series));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};

const SERVICE_LINKS = {
  IM_MESSAGE_SERVICE_HOST: '10.96.12.7',
  IM_MESSAGE_SERVICE_PORT: '80',
  IM_MESSAGE_PORT: 'tcp://10.96.12.7:80',
  IM_MESSAGE_PORT_80_TCP: 'tcp://10.96.12.7:80',
  IM_MESSAGE_PORT_80_TCP_PROTO: 'tcp',
  IM_MESSAGE_PORT_80_TCP_PORT: '80',
  IM_MESSAGE_PORT_80_TCP_ADDR: '10.96.12.7',
};

/**
 * Readiness says "this process can take traffic" (listening, its id lease held, not shutting
 * down), not "its backing services answer": an outage of MySQL or Redis is shared by every
 * replica, and a readiness that followed it would take every ingest pod out of the Service, so
 * that gateways get refused connections instead of the 202s and 503s the contract promises. The
 * state of Redis and MySQL has its own endpoint and metric. ingest-api runs with a separate ops
 * port (metrics.port), as on Kubernetes, and the fleet on a MariaDB of this file's own, stopped
 * mid-way.
 */
describe('readiness with MySQL stopped', () => {
  let mysql: PrivateMysql;
  let db: TestDatabase;
  let api: Fleet;
  let workers: Fleet;
  let opsPort = 0;
  const base = randomUserBase();
  const [alice, bob, stranger] = [base + 1n, base + 2n, base + 3n].map(String) as [string, string, string];

  before(async () => {
    mysql = await new PrivateMysql().start();
    db = await createTestDatabase(mysql.url);
    opsPort = await freePort();
    api = await new Fleet(db.url, { IM_METRICS_PORT: String(opsPort) }).startAll(['ingest-api']);
    // As if a Service im-message (cluster IP 10.96.12.7, port 80) were in the pod's namespace with service links on.
    workers = await new Fleet(db.url, SERVICE_LINKS, [], { prefix: api.prefix }).startAll(['worker-persist']);
  });

  after(async () => {
    await Promise.all([api?.stop(), workers?.stop()]);
    if (mysql && !mysql.running) await mysql.start();
    await db?.drop();
    await mysql?.stop();
  });

  it('ingest-api serves /metrics and the dependency state on its ops port, not on the API port', async () => {
    const ops = `http://127.0.0.1:${opsPort}`;
    const withToken = { headers: { authorization: `Bearer ${TEST_TOKEN}` } };
    assert.equal((await fetch(`${api.baseUrl}/metrics`, withToken)).status, 404, '/metrics is not on the port the Service exposes');
    assert.equal((await fetch(`${api.baseUrl}/health/dependencies`, withToken)).status, 404);
    for (const path of ['/health', '/ready']) assert.equal((await fetch(`${api.baseUrl}${path}`)).status, 200, `${path} on the API port`);
    for (const path of ['/health', '/ready', '/metrics']) assert.equal((await fetch(`${ops}${path}`)).status, 200, `${path} on the ops port`);
    assert.deepEqual(await json(`${ops}/health/dependencies`), { status: 200, body: { status: 'ok', dependencies: { redis: 'up', mysql: 'up' } } });
    assert.equal(await waitFor('im_dependency_up sampled', () => metric(`${ops}/metrics`, 'im_dependency_up{dependency="mysql"')), 1);
  });

  it("a worker with Kubernetes service links in its environment runs, and logs what it passed over", () => {
    const warning = workers.logs('worker-persist').split('\n').find((l) => l.includes('service links'));
    assert.ok(warning, workers.logs('worker-persist'));
    assert.match(JSON.parse(warning).msg, /^environment IM_MESSAGE_PORT, IM_MESSAGE_PORT_80_TCP, .*IM_MESSAGE_SERVICE_HOST, IM_MESSAGE_SERVICE_PORT: written by Kubernetes for the Service im-message/);
  });

  it('stays ready, and answers sends as the contract says, until MySQL is back; migrate --wait waits for it', async () => {
    const ops = `http://127.0.0.1:${opsPort}`;
    const workerOps = `http://127.0.0.1:${workers.procs.get('worker-persist')!.port}`;
    for (const u of [alice, bob]) assert.equal((await api.api.put(`/v1/users/${u}`, { name: u })).status, 204);
    const first = await api.api.post('/v1/messages', { sender_id: alice, receiver_id: bob, content: 'before the outage', client_msg_id: 'r-0' });
    assert.equal(first.status, 202);
    const accepted = [first.body.message_id as string];

    await mysql.shutdown();
    // A send that needs MySQL (a sender ingest has not seen) shows that ingest sees the outage.
    const refused = await waitFor('a send that needs MySQL answered 503', async () => {
      const r = await api.api.post('/v1/messages', { sender_id: stranger, receiver_id: bob, content: 'who?' });
      return r.status === 503 ? r : undefined;
    });
    assert.equal(refused.body.error.code, 'UNAVAILABLE');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'a 503 says when to try again');

    // Every process stays in its Service: ready, with the outage on the dependency endpoint.
    assert.deepEqual(await json(`${api.baseUrl}/ready`), { status: 200, body: { status: 'ready' } });
    assert.deepEqual(await json(`${workerOps}/ready`), { status: 200, body: { status: 'ready' } });
    for (const url of [ops, workerOps]) {
      assert.deepEqual(await json(`${url}/health/dependencies`), { status: 503, body: { status: 'unavailable', failed: ['mysql'], dependencies: { redis: 'up', mysql: 'down' } } });
      assert.equal((await fetch(`${url}/health/dependencies`)).headers.get('retry-after'), '1', `${url}: every 503 says when to ask again`);
    }
    assert.equal(refused.body.error.reason, 'DEPENDENCY_UNAVAILABLE');
    assert.equal(await waitFor('im_dependency_up says mysql is down', async () => ((await metric(`${ops}/metrics`, 'im_dependency_up{dependency="mysql"')) === 0 ? 0 : undefined)), 0);

    // Senders ingest knows are accepted: the messages wait in Redis for MySQL. (Without a
    // client_msg_id: in the first two minutes of a deployment's Redis, a repeat is also looked for
    // in MySQL, docs/reliability.md, so those sends would get 503 here.)
    for (let i = 1; i <= 3; i++) {
      const r = await api.api.post('/v1/messages', { sender_id: alice, receiver_id: bob, content: `during the outage ${i}` });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      accepted.push(r.body.message_id);
    }

    // A pod that starts now (its init container: migrate --wait) waits for MySQL instead of failing.
    const migrate = spawn(process.execPath, ['--import', 'tsx', 'packages/db/src/migrate.cli.ts', '--wait', '60'], { cwd: ROOT, env: { PATH: process.env.PATH, MYSQL_URL: db.url } });
    let migrateOut = '';
    migrate.stdout.on('data', (c: Buffer) => (migrateOut += c));
    migrate.stderr.on('data', (c: Buffer) => (migrateOut += c));
    const migrated = new Promise<number | null>((resolve) => migrate.once('exit', resolve));
    await waitFor('migrate waiting for MySQL', () => {
      if (migrate.exitCode !== null) throw new Error(`migrate exited ${migrate.exitCode}: ${migrateOut}`);
      return /waiting for MySQL at 127\.0\.0\.1:\d+/.test(migrateOut);
    });

    await mysql.start();
    assert.equal(await migrated, 0, migrateOut);
    assert.match(migrateOut, /schema at version \d+ \(0 applied now\)/);
    await waitAllInHistory(db, accepted, 30_000);
    await waitFor('dependencies up again', async () => (await fetch(`${ops}/health/dependencies`)).status === 200);
  });
});
