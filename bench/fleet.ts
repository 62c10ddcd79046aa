// npm run bench: the fleet measured side by side with the BullMQ ceiling and a naive baseline,
// on one machine in one run. Writes bench-out/<time>/report.md and report.json.
//   npm run bench -- [--single 20000] [--batch 100000] [--rate 2000] [--rate-seconds 10] [--group-members 10000]
//                    [--redis-cluster [--shards 3]] [--ordered | --unordered]
// --redis-cluster runs the fleet on the local Redis Cluster (sharded queues, sharded Pub/Sub);
// --ordered / --unordered set queue.ordered (for the cost of in-order delivery, side by side).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import type { RowDataPacket } from 'mysql2/promise';
import { createRedis } from '@im/redis';
import { createTestDatabase } from '../test/support/db';
import { randomUserBase, TEST_TOKEN, testRedis, testRedisTarget, testServers, topology } from '../test/support/env';
import { freePort, Fleet, type FleetRole } from '../test/support/fleet';
import { waitFor } from '../test/support/wait';
import pLimit from 'p-limit';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    single: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '100000' },
    naive: { type: 'string', default: '10000' },
    noop: { type: 'string', default: '30000' },
    rate: { type: 'string', default: '2000' },
    'rate-seconds': { type: 'string', default: '10' },
    'group-members': { type: 'string', default: '10000' },
    users: { type: 'string', default: '1000' },
    shards: { type: 'string', default: '3' },
    'redis-cluster': { type: 'boolean', default: false },
    ordered: { type: 'boolean', default: false },
    unordered: { type: 'boolean', default: false },
  },
});
const { 'redis-cluster': onCluster, ordered, unordered, ...numeric } = values;
if (ordered && unordered) throw new Error('give --ordered or --unordered, not both');
const opt = Object.fromEntries(Object.entries(numeric).map(([k, v]) => [k, Number(v)])) as Record<keyof typeof numeric, number>;
if (onCluster) {
  if (!process.env.TEST_REDIS_CLUSTER_NODES) throw new Error('--redis-cluster: no local Redis Cluster (npm run bench starts one with the test stack)');
  process.env.TEST_TOPOLOGY = 'cluster';
  process.env.TEST_SHARDS = String(opt.shards);
  process.env.TEST_PUBSUB = 'sharded';
}
const topo = topology();
const ROLES: FleetRole[] = ['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery', 'worker-cleaner'];
const log = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

// ---- process accounting: CPU seconds and peak RSS from /proc --------------------------------
function procStats(pid: number): { cpuS: number; peakRss: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / 100;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS, peakRss: hwm ? Number(hwm[1]) * 1024 : 0 };
  } catch {
    return { cpuS: 0, peakRss: 0 };
  }
}
const stackPid = (file: string) => {
  const p = join(ROOT, '.stack/test', file);
  return existsSync(p) ? Number(readFileSync(p, 'utf8').trim()) : undefined;
};
/** Peak RSS of the Redis the fleet runs on: the server, or every node of the local cluster. */
function redisPeaks(): Record<string, number> {
  if (!topo.cluster) {
    const pid = stackPid('redis.pid');
    return pid ? { 'redis-server': procStats(pid).peakRss } : {};
  }
  const out: Record<string, number> = {};
  for (const address of topo.clusterNodes) {
    const port = address.split(':')[1]!;
    const pid = stackPid(`cluster/${port}/redis.pid`);
    if (pid) out[`redis ${port}`] = procStats(pid).peakRss;
  }
  return out;
}

// ---- HTTP load -------------------------------------------------------------------------------
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

const db = await createTestDatabase();
const { redisUrl } = testServers();
const fleet = await new Fleet(db.url, { IM_LOG_LEVEL: 'error', IM_MESSAGE_LIMITS_ACK_TIMEOUT_S: '3600', ...(ordered ? { IM_QUEUE_ORDERED: 'true' } : unordered ? { IM_QUEUE_ORDERED: 'false' } : {}) }, [], { bundles: true }).startAll(ROLES);
const base = randomUserBase();
const users = Array.from({ length: opt.users }, (_, i) => String(base + BigInt(i + 1)));
const online = new Set(users.filter((_, i) => i % 2 === 0));
log(`fleet up; creating ${users.length} users, half of them online`);
for (let i = 0; i < users.length; i += 2000) {
  const chunk = users.slice(i, i + 2000);
  await db.pool.query(`INSERT INTO \`user\` (id, name, created_at, updated_at) VALUES ${chunk.map(() => '(?, ?, 0, 0)').join(', ')}`, chunk.flatMap((u) => [u, `user ${u}`]));
}
const heard = new Map<string, number>(); // message_id -> time heard (first)
// The gateway's side: SUBSCRIBE, or SSUBSCRIBE (one channel per call) with sharded Pub/Sub.
const sub = createRedis(testRedisTarget(), 'subscriber', 'bench-gateway');
const messageEvent = topo.pubsub === 'sharded' ? 'smessage' : 'message';
sub.on(messageEvent, (_c: string, raw: string) => {
  const id = (JSON.parse(raw) as { message_id: string }).message_id;
  if (!heard.has(id)) heard.set(id, performance.now());
});
async function listen(userIds: readonly string[]): Promise<void> {
  const channels = userIds.map((u) => `user:${u}`);
  if (topo.pubsub === 'sharded') await Promise.all(channels.map((c) => sub.ssubscribe(c)));
  else for (let i = 0; i < channels.length; i += 1000) await sub.subscribe(...channels.slice(i, i + 1000));
}
const onlineList = [...online];
await listen(onlineList);
const admin = testRedis();
await Promise.all(onlineList.map((u) => admin.set(`im:presence:${u}`, 'gw-bench', 'EX', 7200)));

const accepted = new Map<string, string>(); // message_id -> receiver
let seqNo = 0;
/** A send; fleet messages carry client_msg_id bench-N (checked at the end), the naive baseline's naive-N. */
const message = (fleetMessage: boolean, n = seqNo++) => ({
  sender_id: users[n % users.length]!,
  receiver_id: users[(n * 7 + 1) % users.length]!,
  content: `bench ${n} 你好 🚀`,
  client_msg_id: `${fleetMessage ? 'bench' : 'naive'}-${n}`,
});

async function offlineCount(): Promise<number> {
  const [r] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message');
  return Number(r[0]!.n);
}

/** Sends `total` messages, `perRequest` per POST, `concurrency` in flight; waits until all are routed. */
async function drive(name: string, url: string, total: number, perRequest: number, concurrency: number, fleetMessages: boolean) {
  const before = { offline: await offlineCount(), heard: heard.size };
  const pids = fleetMessages ? ROLES.map((r) => fleet.procs.get(r)!.child.pid!) : [];
  const cpu0 = pids.map((p) => procStats(p).cpuS);
  let done = 0;
  const started = performance.now();
  const progress = setInterval(() => log(`${name}: ${done}/${total} accepted`), 2000);
  // `concurrency` requests in flight, each of `perRequest` messages, until `total` are sent.
  const limit = pLimit(concurrency);
  const sizes = Array.from({ length: Math.ceil(total / perRequest) }, (_, i) => Math.min(perRequest, total - i * perRequest));
  const request = async (n: number) => {
    const items = Array.from({ length: n }, () => message(fleetMessages));
    const r = perRequest === 1 ? await post(url + '/v1/messages', items[0]) : await post(url + '/v1/messages/batch', { messages: items });
    if (r.status !== 202 && r.status !== 200) throw new Error(`${name}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    const results = perRequest === 1 ? [r.body] : r.body.results;
    results.forEach((res: any, i: number) => {
      if (!res.message_id) throw new Error(`${name}: refused ${JSON.stringify(res)}`);
      if (fleetMessages) accepted.set(res.message_id, items[i]!.receiver_id);
    });
    done += n;
  };
  await Promise.all(sizes.map((n) => limit(() => request(n))));
  const acceptS = (performance.now() - started) / 1000;
  await waitFor(`${name}: all routed`, async () => (await offlineCount()) - before.offline + heard.size - before.heard >= total, 600_000);
  clearInterval(progress);
  const s = (performance.now() - started) / 1000;
  const perRole = Object.fromEntries(pids.map((p, i) => [ROLES[i]!, ((procStats(p).cpuS - cpu0[i]!) / total) * 1000]));
  const cpu = Object.values(perRole).reduce((a, b) => a + b, 0);
  log(`${name}: ${total} accepted in ${acceptS.toFixed(2)} s, routed in ${s.toFixed(2)} s = ${Math.round(total / s)} messages/s`);
  return {
    messages: total,
    accept_s: acceptS,
    routed_s: s,
    msgs_per_s: total / s,
    fleet_cpu_s_per_1000: fleetMessages ? cpu : null,
    cpu_s_per_1000_by_role: fleetMessages ? perRole : null,
  };
}

const report: Record<string, unknown> = {};
try {
  // A. BullMQ ceiling: no-op jobs through one queue, with the fleet's connection settings.
  {
    log(`A: ${opt.noop} no-op jobs through one BullMQ queue`);
    const conn = createRedis(testRedisTarget(), 'worker', 'bench-noop');
    const prefix = `{benchA${Date.now()}}`;
    const q = new Queue('bench.noop', { connection: conn, prefix, defaultJobOptions: { removeOnComplete: true } });
    for (let i = 0; i < opt.noop; i += 1000) await q.addBulk(Array.from({ length: Math.min(1000, opt.noop - i) }, (_, k) => ({ name: 'noop', data: { n: i + k } })));
    let completed = 0;
    const started = performance.now();
    const w = new Worker('bench.noop', async () => {}, { connection: conn, prefix, concurrency: 200 });
    w.on('completed', () => completed++);
    await waitFor('no-op jobs done', () => completed >= opt.noop, 300_000);
    const s = (performance.now() - started) / 1000;
    await w.close();
    await q.obliterate({ force: true });
    await q.close();
    conn.disconnect();
    report.A = { jobs: opt.noop, s, jobs_per_s: opt.noop / s };
    log(`A: ${Math.round(opt.noop / s)} jobs/s`);
  }

  // B. Naive baseline: the seed's synchronous flow per request.
  {
    const port = await freePort();
    const naive: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/naive-server.ts'], {
      cwd: ROOT,
      env: { ...process.env, NAIVE_PORT: String(port), MYSQL_URL: db.url, REDIS_URL: redisUrl },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((r) => naive.stdout!.once('data', r));
    log(`B: naive synchronous handler, ${opt.naive} single sends`);
    const b = await drive('B naive', `http://127.0.0.1:${port}`, opt.naive, 1, 64, false);
    report.B = { ...b, peak_rss: procStats(naive.pid!).peakRss };
    naive.kill('SIGTERM');
  }

  // C. The fleet, single sends at full speed.
  report.C = await drive('C fleet single', fleet.baseUrl, opt.single, 1, 64, true);
  // D. The fleet, batch sends of 100.
  report.D = await drive('D fleet batch', fleet.baseUrl, opt.batch, 100, 8, true);

  // E. Latency at a fixed rate, every receiver online: POST start to PUBLISH seen by the gateway.
  {
    const total = opt.rate * opt['rate-seconds'];
    log(`E: ${opt.rate} messages/s for ${opt['rate-seconds']} s, receivers online`);
    const sentAt = new Map<string, number>();
    const pending: Promise<void>[] = [];
    const started = performance.now();
    const tickMs = 5;
    const perTick = (opt.rate * tickMs) / 1000;
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / tickMs + 1) * perTick));
      for (; sent < due; sent++) {
        const n = seqNo++;
        const m = { sender_id: users[n % users.length]!, receiver_id: onlineList[n % onlineList.length]!, content: `latency ${n}`, client_msg_id: `bench-${n}` };
        const t0 = performance.now();
        pending.push(
          post(fleet.baseUrl + '/v1/messages', m).then((r) => {
            if (r.status !== 202) throw new Error(`E: HTTP ${r.status}`);
            sentAt.set(r.body.message_id, t0);
            accepted.set(r.body.message_id, m.receiver_id);
          }),
        );
      }
      await new Promise((r) => setTimeout(r, tickMs));
    }
    await Promise.all(pending);
    const actualRate = total / ((performance.now() - started) / 1000);
    await waitFor('E: all heard', () => [...sentAt.keys()].every((id) => heard.has(id)), 120_000);
    const lat = [...sentAt].map(([id, t0]) => heard.get(id)! - t0).sort((a, b) => a - b);
    report.E = { messages: total, offered_rate: opt.rate, achieved_rate: actualRate, p50_ms: pct(lat, 0.5), p99_ms: pct(lat, 0.99), p999_ms: pct(lat, 0.999), max_ms: lat.at(-1) };
    log(`E: p50 ${pct(lat, 0.5).toFixed(1)} ms, p99 ${pct(lat, 0.99).toFixed(1)} ms, p99.9 ${pct(lat, 0.999).toFixed(1)} ms`);
  }

  // F. One message to a large group, half online.
  {
    const n = opt['group-members'];
    log(`F: one message to a ${n}-member group`);
    const members = Array.from({ length: n }, (_, i) => String(base + 1_000_000n + BigInt(i)));
    for (let i = 0; i < n; i += 2000) {
      const chunk = members.slice(i, i + 2000);
      await db.pool.query(`INSERT INTO \`user\` (id, name, created_at, updated_at) VALUES ${chunk.map(() => '(?, ?, 0, 0)').join(', ')}`, chunk.flatMap((m) => [m, 'member']));
    }
    const group = String(base + 999_999n);
    await fleet.api.put(`/v1/groups/${group}`, { name: 'bench group' });
    for (let i = 0; i < n; i += 10_000) await fleet.api.post(`/v1/groups/${group}/members`, { add: members.slice(i, i + 10_000) });
    const onlineMembers = members.filter((_, i) => i % 2 === 0);
    await listen(onlineMembers);
    await Promise.all(onlineMembers.map((u) => admin.set(`im:presence:${u}`, 'gw-bench', 'EX', 7200)));
    let heardGroup = 0;
    let groupId = '';
    sub.on(messageEvent, (_c: string, raw: string) => {
      if (groupId && raw.includes(`"message_id":"${groupId}"`)) heardGroup++;
    });
    const started = performance.now();
    const r = await post(fleet.baseUrl + '/v1/group-messages', { sender_id: members[0], group_id: group, content: 'to everyone 📣' });
    groupId = r.body.message_id;
    await waitFor(
      'F: every member routed',
      async () => {
        const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message WHERE message_id = ?', [groupId]);
        return Number(rows[0]!.n) + heardGroup >= n - 1;
      },
      120_000,
    );
    const ms = performance.now() - started;
    report.F = { members: n, last_member_ms: ms, deliveries_per_s: (n - 1) / (ms / 1000) };
    log(`F: last member routed after ${ms.toFixed(0)} ms`);
  }

  // Correctness: every fleet message in history exactly once, and routed.
  {
    log('verifying: history exactly once, every message routed');
    const [h] = await db.pool.query<RowDataPacket[]>("SELECT COUNT(*) AS n, COUNT(DISTINCT client_msg_id) AS d FROM message_history WHERE client_msg_id LIKE 'bench-%'");
    const ids = [...accepted.keys()];
    let offlineHits = 0;
    const offlineSet = new Set<string>();
    for (let i = 0; i < ids.length; i += 5000) {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT user_id, message_id FROM offline_message WHERE message_id IN (?)', [ids.slice(i, i + 5000)]);
      for (const r of rows) offlineSet.add(`${r.user_id}/${r.message_id}`);
    }
    const unrouted = ids.filter((id) => {
      const ok = offlineSet.has(`${accepted.get(id)}/${id}`) || heard.has(id);
      if (ok && offlineSet.has(`${accepted.get(id)}/${id}`)) offlineHits++;
      return !ok;
    });
    report.correctness = { accepted: ids.length, history_rows: Number(h[0]!.n), distinct_client_msg_ids: Number(h[0]!.d), routed: ids.length - unrouted.length, offline: offlineHits };
    if (Number(h[0]!.n) !== ids.length || Number(h[0]!.d) !== ids.length || unrouted.length > 0) throw new Error(`correctness check failed: ${JSON.stringify(report.correctness)}`);
    log(`verified: ${ids.length} messages, each in history once and routed`);
  }

  const peak: Record<string, number> = {};
  for (const r of ROLES) peak[r] = procStats(fleet.procs.get(r)!.child.pid!).peakRss;
  Object.assign(peak, redisPeaks());
  const mysqlPid = stackPid('mysql.pid');
  if (mysqlPid) peak.mariadbd = procStats(mysqlPid).peakRss;
  report.topology = { redis: topo.cluster ? `cluster of ${topo.clusterNodes.length} nodes (3 primaries, 3 replicas)` : 'one server', shards: topo.shards, pubsub: topo.pubsub, ordered: Boolean(ordered) };
  report.peak_rss_bytes = peak;
  const A = (report.A as { jobs_per_s: number }).jobs_per_s;
  const B = (report.B as { msgs_per_s: number }).msgs_per_s;
  const C = (report.C as { msgs_per_s: number }).msgs_per_s;
  const D = (report.D as { msgs_per_s: number }).msgs_per_s;
  report.ratios = { 'C/A': C / A, 'D/A': D / A, 'C/B': C / B };
  const [[ver]] = (await db.pool.query('SELECT VERSION() AS v')) as unknown as [[{ v: string }]];
  const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1];
  report.machine = { cpu: cpus()[0]?.model, cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, mariadb: ver.v, redis: redisVersion, date: new Date().toISOString() };
  log(`ratios: C/A ${(C / A).toFixed(2)}, D/A ${(D / A).toFixed(2)}, C/B ${(C / B).toFixed(2)}`);

  const dir = join(ROOT, 'bench-out', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(dir, 'report.md'), markdown(report));
  log(`report: ${join('bench-out', dir.split('/bench-out/')[1]!, 'report.md')}`);
  process.stdout.write(markdown(report));
} finally {
  agent.destroy();
  sub.disconnect();
  admin.disconnect();
  await fleet.stop();
  await db.drop();
}

function markdown(r: Record<string, any>): string {
  const f = (x: number, d = 0) => x.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });
  const mb = (b: number) => `${f(b / 2 ** 20)} MB`;
  const m = r.machine;
  return `# im-message benchmark

Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB; Node.js ${m.node}, MariaDB ${m.mariadb}, Redis ${m.redis};
everything (load generator, fleet of one process per role, Redis, MariaDB) on this one machine. ${m.date}.
Topology: Redis ${r.topology.redis}, ${r.topology.shards} shard(s), ${r.topology.pubsub} Pub/Sub, ordered delivery ${r.topology.ordered ? 'on' : 'off'}.

| | measure | result |
|---|---|---|
| A | BullMQ ceiling: no-op jobs through one queue (concurrency 200) | ${f(r.A.jobs_per_s)} jobs/s |
| B | naive baseline: synchronous insert + presence + publish/offline per request | ${f(r.B.msgs_per_s)} messages/s |
| C | fleet, single sends (1 per POST, 64 in flight) | ${f(r.C.msgs_per_s)} messages/s routed end to end |
| D | fleet, batch sends (100 per POST, 8 in flight) | ${f(r.D.msgs_per_s)} messages/s routed end to end |
| E | latency at ${f(r.E.offered_rate)} messages/s offered (${f(r.E.achieved_rate)} achieved), POST to PUBLISH seen | p50 ${f(r.E.p50_ms, 1)} ms, p99 ${f(r.E.p99_ms, 1)} ms, p99.9 ${f(r.E.p999_ms, 1)} ms |
| F | one message to a ${f(r.F.members)}-member group (half online) | last member after ${f(r.F.last_member_ms)} ms (${f(r.F.deliveries_per_s)} deliveries/s) |

Ratios: C/A ${f(r.ratios['C/A'], 2)}, D/A ${f(r.ratios['D/A'], 2)}, C/B ${f(r.ratios['C/B'], 2)}.

Fleet CPU seconds per 1,000 messages (all five roles): single sends ${f(r.C.fleet_cpu_s_per_1000, 3)}, batch sends ${f(r.D.fleet_cpu_s_per_1000, 3)}.

| role | CPU s per 1,000 messages, single sends | batch sends |
|---|---|---|
${ROLES.map((role) => `| ${role} | ${f(r.C.cpu_s_per_1000_by_role[role], 3)} | ${f(r.D.cpu_s_per_1000_by_role[role], 3)} |`).join('\n')}

Peak RSS: ${Object.entries(r.peak_rss_bytes as Record<string, number>)
    .map(([k, v]) => `${k} ${mb(v)}`)
    .join(', ')}.

Correctness: ${f(r.correctness.accepted)} messages accepted by the fleet; ${f(r.correctness.history_rows)} history rows with ${f(r.correctness.distinct_client_msg_ids)} distinct client_msg_ids (each exactly once); ${f(r.correctness.routed)} routed (published to a subscriber or stored offline).
`;
}
