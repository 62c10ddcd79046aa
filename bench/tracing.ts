// What tracing costs: the fleet with tracing off and on, side by side in one run, on the send path.
//   npm run bench -- tracing [--messages 20000] [--warmup 2000] [--runs 2] [--connections 64] [--users 1000]
// Each run starts a fresh fleet (its own database and queue prefix) three times: with no OTEL_*
// variable (off, the default), exporting every span (on: OTEL_TRACES_SAMPLER=always_on), and
// sampling a tenth of the sends (parentbased_traceidratio 0.1, as production would), each over
// OTLP/HTTP protobuf to a receiver in this process that takes and counts the exports, as a
// Collector would; the modes alternate within a run so that the machine's load falls on all. Per fleet: `messages` single
// sends from wrk as fast as they are answered, to offline receivers, until every offline row is
// stored; reported: sends accepted per second, POST-to-202 latency, messages routed per second,
// CPU seconds per 1,000 messages of each role and of the servers, spans exported. Then the cost
// of the helpers on the hot path with tracing off, per call, in this process (no SDK started).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RowDataPacket } from 'mysql2/promise';
import { consumeHop, inSpan, produceHop, SpanKind, tracingOn } from '@im/telemetry';
import { createTestDatabase } from '../test/support/db';
import { randomUserBase, TEST_TOKEN, testServers } from '../test/support/env';
import { Fleet, type FleetRole } from '../test/support/fleet';
import { waitFor } from '../test/support/wait';
import { cpuMeter, pidListeningOn, portOf } from './proc';
import { ensureWrk, runWrk } from './wrk';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    users: { type: 'string', default: '1000' },
  },
  allowPositionals: true,
});
const opt = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)])) as Record<keyof typeof values, number>;
const log = (m: string) => process.stderr.write(`[bench tracing ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const ROLES: FleetRole[] = ['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery'];

const wrk = ensureWrk(log);
if (!wrk.path) {
  log(`no load generator: ${wrk.why}; stopping.`);
  process.exit(2);
}

// ---- the span sink: an OTLP/HTTP endpoint that takes every export and counts it ---------------
let exports = 0;
let exportedBytes = 0;
const sink = createServer((req, res) => {
  let n = 0;
  req.on('data', (c: Buffer) => (n += c.length));
  req.on('end', () => {
    exports++;
    exportedBytes += n;
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
  });
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

const { redisUrl } = testServers();
const servers: Record<string, number> = {};
const redisPid = pidListeningOn(portOf(redisUrl));
if (redisPid) servers['redis-server'] = redisPid;

type Mode = 'off' | 'on' | 'sampled';
const MODES: readonly Mode[] = ['off', 'on', 'sampled'];

interface Result {
  mode: Mode;
  run: number;
  accepted: number;
  accept_per_s: number;
  post_to_202_ms: { p50: number; p99: number };
  routed_per_s: number;
  cpu_s_per_1000: Record<string, number>;
  fleet_cpu_s_per_1000: number;
  exports: number;
  exported_kb: number;
}

async function measure(mode: Mode, run: number): Promise<Result> {
  const db = await createTestDatabase();
  const env: Record<string, string> = { IM_LOG_LEVEL: 'error' };
  if (mode === 'on') Object.assign(env, { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_SAMPLER: 'always_on' });
  if (mode === 'sampled') Object.assign(env, { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' });
  const fleet = await new Fleet(db.url, env).startAll(ROLES);
  let stopped = false;
  try {
    const base = randomUserBase();
    const users = Array.from({ length: opt.users }, (_, i) => String(base + BigInt(i + 1)));
    for (let i = 0; i < users.length; i += 2000) {
      const chunk = users.slice(i, i + 2000);
      await db.pool.query(`INSERT INTO \`user\` (id, name, created_at, updated_at) VALUES ${chunk.map(() => '(?, ?, 0, 0)').join(', ')}`, chunk.flatMap((u) => [u, `user ${u}`]));
    }
    const offline = async () => Number(((await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message'))[0] as RowDataPacket[])[0]!.n);
    const send = (total: number, prefix: string) => runWrk({ url: fleet.baseUrl, total, connections: opt.connections, senders: users, receivers: users, prefix, token: TEST_TOKEN });

    const warm = await send(opt.warmup, `w${run}${mode}-`);
    await waitFor('warm-up routed', async () => (await offline()) >= warm.accepted, 300_000);
    const before = await offline();
    const exports0 = { n: exports, bytes: exportedBytes };
    const pids = Object.fromEntries(ROLES.map((r) => [r, fleet.procs.get(r)!.child.pid!]));
    const meter = cpuMeter({ ...pids, ...servers });
    const t0 = performance.now();
    const w = await send(opt.messages, `m${run}${mode}-`);
    if (!w.complete) throw new Error(`wrk stopped with ${w.answered}/${opt.messages} answered`);
    await waitFor('all routed', async () => (await offline()) - before >= w.accepted, 900_000);
    const routedS = (performance.now() - t0) / 1000;
    const cpu = meter();
    // The spans of the last messages leave with the next export (every 5 s) or at shutdown.
    await fleet.stop();
    stopped = true;
    const per1000 = Object.fromEntries(Object.entries(cpu).map(([k, s]) => [k, (s / w.accepted) * 1000]));
    const r: Result = {
      mode,
      run,
      accepted: w.accepted,
      accept_per_s: w.accepted / ((w.last_us - w.first_us) / 1e6),
      post_to_202_ms: { p50: w.latency_us.p50 / 1000, p99: w.latency_us.p99 / 1000 },
      routed_per_s: w.accepted / routedS,
      cpu_s_per_1000: per1000,
      fleet_cpu_s_per_1000: ROLES.reduce((a, role) => a + (per1000[role] ?? 0), 0),
      exports: exports - exports0.n,
      exported_kb: Math.round((exportedBytes - exports0.bytes) / 1024),
    };
    log(`${mode} run ${run}: ${Math.round(r.accept_per_s)} sends/s accepted, ${Math.round(r.routed_per_s)} messages/s routed, p50 ${r.post_to_202_ms.p50.toFixed(1)} ms, fleet ${r.fleet_cpu_s_per_1000.toFixed(3)} CPU s per 1,000, ${r.exports} exports`);
    return r;
  } finally {
    if (!stopped) await fleet.stop();
    await db.drop();
  }
}

/** The hot path's tracing helpers with tracing off (this process starts no SDK): ns per call. */
async function offPathCost(): Promise<Record<string, number>> {
  if (tracingOn()) throw new Error('the off-path measurement needs tracing off in the bench process');
  const N = 1_000_000;
  const job = { id: 'b1', data: { messages: [] } };
  const time = async (fn: () => unknown) => {
    for (let i = 0; i < 10_000; i++) await fn();
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await fn();
    return Number(process.hrtime.bigint() - t) / N;
  };
  const nothing = async () => undefined;
  return {
    'an async call (baseline)': await time(nothing),
    'inSpan (admission span)': await time(() => inSpan('admit', SpanKind.INTERNAL, {}, nothing)),
    'produceHop (producer spans)': await time(() => produceHop('im.persist', ['1'], undefined).end()),
    'consumeHop (consumer spans of a job)': await time(() => consumeHop('im.persist', [job]).end()),
  };
}

const startedAt = new Date().toISOString();
const load0 = loadavg().map((x) => x.toFixed(2));
const results: Result[] = [];
for (let run = 1; run <= opt.runs; run++) {
  for (const mode of MODES) results.push(await measure(mode, run));
}
const offCost = await offPathCost();
sink.close();

const mean = (mode: Mode, f: (r: Result) => number) => {
  const rs = results.filter((r) => r.mode === mode);
  return rs.reduce((a, r) => a + f(r), 0) / rs.length;
};
const rows: [string, (r: Result) => number, number][] = [
  ['sends accepted per s (wrk, closed loop)', (r) => r.accept_per_s, 0],
  ['messages routed per s (POST to offline row)', (r) => r.routed_per_s, 0],
  ['POST to 202, p50 ms', (r) => r.post_to_202_ms.p50, 1],
  ['POST to 202, p99 ms', (r) => r.post_to_202_ms.p99, 1],
  ['fleet CPU s per 1,000 messages', (r) => r.fleet_cpu_s_per_1000, 3],
  ...ROLES.map((role) => [`  ${role}`, (r: Result) => r.cpu_s_per_1000[role] ?? 0, 3] as [string, (r: Result) => number, number]),
  ['  redis-server', (r) => r.cpu_s_per_1000['redis-server'] ?? 0, 3],
  ['OTLP exports (KiB)', (r) => r.exported_kb, 0],
];
const lines = [
  `Tracing off, on, and sampled at 10 %, ${opt.runs} run(s) each, alternating; ${opt.messages} single sends per run from wrk (${opt.connections} connections) to offline receivers; started ${startedAt}, load average ${load0.join(' ')}.`,
  '',
  '| | off | on (always_on) | on / off | sampled (10 %) | sampled / off |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map(([name, f, digits]) => {
    const [off, on, sampled] = MODES.map((m) => mean(m, f)) as [number, number, number];
    const ratio = (x: number) => (off > 0 ? (x / off).toFixed(2) : '-');
    return `| ${name} | ${off.toFixed(digits)} | ${on.toFixed(digits)} | ${ratio(on)} | ${sampled.toFixed(digits)} | ${ratio(sampled)} |`;
  }),
  '',
  'Per run: ' + results.map((r) => `${r.mode}#${r.run} ${Math.round(r.accept_per_s)}/s, ${r.fleet_cpu_s_per_1000.toFixed(3)} CPU s`).join('; '),
  '',
  'With tracing off, the helpers on the hot path (this process, no SDK), ns per call:',
  '',
  ...Object.entries(offCost).map(([k, ns]) => `- ${k}: ${ns.toFixed(0)} ns`),
];
const out = join(ROOT, 'bench-out', `tracing-${startedAt.replace(/[:.]/g, '-')}`);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'tracing.md'), lines.join('\n') + '\n');
writeFileSync(join(out, 'tracing.json'), JSON.stringify({ startedAt, options: opt, results, offCost }, null, 2));
process.stdout.write(lines.join('\n') + '\n');
log(`written to ${out}`);
process.exit(0);
