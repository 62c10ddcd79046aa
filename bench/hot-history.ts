// The hot-conversation cache against MySQL, side by side in one run.
//   npm run bench -- hot-history [--members 50] [--history 800] [--seconds 8] [--rounds 3] [--connections 32] [--write-rate 20]
// A fleet on a fresh database; one busy group with `history` messages and more arriving at
// `write-rate` per second (members are offline: each message is members - 1 offline rows, and the
// rounds start once the history's rows are all delivered). wrk reads the group's first page (limit 50) as random members, in
// alternating rounds: the first page as gateways ask for it (served by the cache) and the same
// page with before_seq above every seq (the same MySQL query the cache replaces). Reported per
// path: reads per second, latency, and CPU seconds per 1,000 reads of ingest-api, MariaDB and Redis.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createTestDatabase } from '../test/support/db';
import { randomUserBase, TEST_TOKEN, testServers } from '../test/support/env';
import { Fleet } from '../test/support/fleet';
import { waitFor } from '../test/support/wait';
import { cpuMeter, pidListeningOn, portOf } from './proc';
import { ensureWrk } from './wrk';

const { values: opt } = parseArgs({
  options: {
    members: { type: 'string', default: '50' },
    history: { type: 'string', default: '800' },
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    'write-rate': { type: 'string', default: '20' },
    /** Writes each role's CPU profile (node --cpu-prof) to this directory. */
    'cpu-prof': { type: 'string' },
  },
  allowPositionals: true,
});
const log = (m: string) => process.stderr.write(`[hot-history] ${m}\n`);
const n = (k: keyof typeof opt) => Number(opt[k]);

const wrk = ensureWrk(log);
if (!wrk.path) {
  log(wrk.why!);
  process.exit(2);
}

const db = await createTestDatabase();
const profile = opt['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${opt['cpu-prof']}`] : [];
const fleet = await new Fleet(db.url, { IM_LOG_LEVEL: 'error', IM_RATE_LIMIT_PER_SENDER_PER_S: '100000' }, profile).startAll([
  'ingest-api',
  'worker-persist',
  'worker-fanout',
  'worker-delivery',
]);
const api = fleet.api;
const base = randomUserBase();
const members = Array.from({ length: n('members') }, (_, i) => String(base + BigInt(i + 1)));
const group = String(base + 1_000_000n);
for (const u of members) await api.put(`/v1/users/${u}`, { name: `u${u.slice(-4)}` });
await api.put(`/v1/groups/${group}`, { name: 'busy' });
await api.post(`/v1/groups/${group}/members`, { add: members });

const persisted = async (count: number) =>
  waitFor(`${count} messages in history`, async () => {
    const [rows] = await db.pool.query<any[]>('SELECT COUNT(*) AS n FROM message_history');
    return Number(rows[0].n) >= count;
  }, 120_000);

log(`${n('history')} messages into a group of ${members.length}`);
let sent = 0;
for (let i = 0; i < n('history'); i += 500) {
  const messages = Array.from({ length: Math.min(500, n('history') - i) }, (_, k) => ({ sender_id: members[(i + k) % members.length], group_id: group, content: `history message ${i + k} with a few words of text` }));
  const r = await api.post('/v1/messages/batch', { messages });
  if (r.status !== 200) throw new Error(`batch send answered ${r.status}`);
  sent += messages.length;
}
await persisted(sent);
const delivered = async (count: number) =>
  waitFor(`${count * (members.length - 1)} offline rows`, async () => {
    const [rows] = await db.pool.query<any[]>('SELECT COUNT(*) AS n FROM offline_message');
    return Number(rows[0].n) >= count * (members.length - 1);
  }, 300_000);
await delivered(sent);

// Messages keep arriving while the rounds run, so the cache is kept up to date under reads.
let writing = true;
const writer = (async () => {
  const interval = 1000 / n('write-rate');
  let next = performance.now();
  while (writing) {
    const r = await api.post('/v1/group-messages', { sender_id: members[sent % members.length], group_id: group, content: `live message ${sent}` });
    if (r.status === 202) sent++;
    next += interval;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  }
})();

const servers: Record<string, number> = {};
const mysqlPid = pidListeningOn(portOf(db.url));
if (mysqlPid) servers.mariadbd = mysqlPid;
const redisPid = pidListeningOn(portOf(testServers().redisUrl));
if (redisPid) servers['redis-server'] = redisPid;
const ingestPid = fleet.procs.get('ingest-api')!.child.pid!;

const tmp = mkdtempSync(join(tmpdir(), 'im-hot-'));
const script = join(tmp, 'read.lua');
writeFileSync(
  script,
  `local paths = {}
init = function(args) for i = 1, #args do paths[i] = args[i] end end
request = function() return wrk.format("GET", paths[math.random(#paths)], { authorization = "Bearer ${TEST_TOKEN}" }) end
`,
);

interface Round {
  reads: number;
  reads_per_s: number;
  non_2xx: number;
  latency_ms: { p50: number; p90: number; p99: number };
  cpu_s_per_1000: Record<string, number>;
}

function wrkRun(paths: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(wrk.path!, ['-t1', `-c${n('connections')}`, `-d${n('seconds')}s`, '--latency', '-s', script, fleet.baseUrl, '--', ...paths], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}`))));
  });
}

const ms = (text: string, label: string) => {
  const m = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`).exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
};

async function round(path: 'cache' | 'mysql'): Promise<Round> {
  const suffix = path === 'mysql' ? '&before_seq=999999999' : '';
  const paths = members.slice(0, 50).map((u) => `/v1/users/${u}/history?group_id=${group}&limit=50${suffix}`);
  const meter = cpuMeter({ 'ingest-api': ingestPid, ...servers });
  const out = await wrkRun(paths);
  const cpu = meter();
  const reads = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return {
    reads,
    reads_per_s: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    non_2xx: non2xx,
    latency_ms: { p50: ms(out, '50%'), p90: ms(out, '90%'), p99: ms(out, '99%') },
    cpu_s_per_1000: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, (v / Math.max(1, reads)) * 1000])),
  };
}

async function cacheReads(): Promise<number> {
  const value = Number(/^im_history_reads_total\{source="cache"[^}]*\} (\d+)/m.exec((await api.get('/metrics')).body as string)?.[1]);
  if (!Number.isInteger(value)) throw new Error('ingest-api does not export im_history_reads_total{source="cache"}');
  return value;
}

// A first read asks for the cache; the next persist round fills it.
await api.get(`/v1/users/${members[0]}/history?group_id=${group}&limit=50`);
await new Promise((res) => setTimeout(res, 500));
const results: Record<'cache' | 'mysql', Round[]> = { cache: [], mysql: [] };
const hits0 = await cacheReads();
for (let r = 0; r < n('rounds'); r++) {
  for (const path of r % 2 === 0 ? (['cache', 'mysql'] as const) : (['mysql', 'cache'] as const)) {
    const x = await round(path);
    results[path].push(x);
    log(`round ${r + 1} ${path}: ${Math.round(x.reads_per_s)} reads/s, p99 ${x.latency_ms.p99} ms, non-2xx ${x.non_2xx}`);
  }
}
const hits = (await cacheReads()) - hits0;
writing = false;
await writer;

// Once writes stop: the page from the cache is MySQL's page.
await persisted(sent);
await new Promise((res) => setTimeout(res, 500));
const first = await api.get(`/v1/users/${members[1]}/history?group_id=${group}&limit=50`);
const fromMysql = await api.get(`/v1/users/${members[1]}/history?group_id=${group}&limit=50&before_seq=999999999`);
const same = JSON.stringify(first.body) === JSON.stringify(fromMysql.body);

const sum = (rs: Round[], f: (r: Round) => number) => rs.reduce((a, r) => a + f(r), 0);
const summary = (rs: Round[]) => ({
  reads: sum(rs, (r) => r.reads),
  reads_per_s: sum(rs, (r) => r.reads_per_s) / rs.length,
  p50_ms: sum(rs, (r) => r.latency_ms.p50) / rs.length,
  p99_ms: sum(rs, (r) => r.latency_ms.p99) / rs.length,
  non_2xx: sum(rs, (r) => r.non_2xx),
  cpu_s_per_1000: Object.fromEntries(Object.keys(rs[0]!.cpu_s_per_1000).map((k) => [k, sum(rs, (r) => r.cpu_s_per_1000[k]!) / rs.length])),
});
const c = summary(results.cache);
const m = summary(results.mysql);
const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const lines = [
  `# Hot-conversation cache vs MySQL (${new Date().toISOString()})`,
  '',
  `One group of ${members.length} members, ${n('history')} messages, ${n('write-rate')} more per second during the rounds. wrk, 1 thread, ${n('connections')} connections, ${n('rounds')} rounds of ${n('seconds')} s per path, alternating. First page, limit 50.`,
  '',
  '| | from the cache | from MySQL | cache / MySQL |',
  '|---|---|---|---|',
  `| reads per second (mean of rounds) | ${f(c.reads_per_s)} | ${f(m.reads_per_s)} | ${f(c.reads_per_s / m.reads_per_s, 2)} |`,
  `| latency p50 (ms) | ${f(c.p50_ms, 2)} | ${f(m.p50_ms, 2)} | |`,
  `| latency p99 (ms) | ${f(c.p99_ms, 2)} | ${f(m.p99_ms, 2)} | |`,
  ...Object.keys(c.cpu_s_per_1000).map((k) => `| ${k} CPU s per 1,000 reads | ${f(c.cpu_s_per_1000[k]!, 3)} | ${f(m.cpu_s_per_1000[k]!, 3)} | ${f(c.cpu_s_per_1000[k]! / Math.max(1e-9, m.cpu_s_per_1000[k]!), 2)} |`),
  `| answers other than 200 | ${c.non_2xx} | ${m.non_2xx} | |`,
  '',
  `First pages ingest-api served from the cache during the cache rounds (its own count, im_history_reads_total{source="cache"}): ${f(hits)}; wrk counted ${f(c.reads)} answers in those rounds (requests cut off at a round's end are answered but not counted by wrk).`,
  `Check once writes stopped: the cached first page ${same ? 'equals' : 'DIFFERS FROM'} MySQL's page.`,
];
process.stdout.write(lines.join('\n') + '\n');
rmSync(tmp, { recursive: true, force: true });
await fleet.stop();
await db.drop();
if (!same || c.non_2xx + m.non_2xx > 0) process.exit(1);
