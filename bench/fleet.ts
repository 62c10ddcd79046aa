// npm run bench: the fleet measured side by side with the BullMQ ceiling and a naive baseline,
// on one machine in one run. Writes bench-out/<time>/report.md and report.json (bench/report.ts).
//   npm run bench -- [--single 20000] [--warmup 2000] [--batch 100000] [--naive 10000] [--noop 30000]
//                    [--rate 2000] [--rate-seconds 10] [--levels 25,50,80] [--burst 100000]
//                    [--group-members 10000] [--users 1000]
//                    [--connections 64] [--rate-connections 256] [--burst-connections 256] [--wrk-threads 1]
//                    [--stream-single <single>] [--stream-streams 4] [--stream-window 64]
//                    [--redis-cluster [--shards 3]] [--ordered | --unordered] [--cpu-prof]
// Single sends (B, C, E, G, H) come from wrk (bench/wrk.ts, bench/wrk/send.lua), a process of its
// own whose CPU is reported; batch sends (D, 100 messages a request) and the group send (F) from
// node:http in this process. Streamed single sends (S, and SE at the rate of E) go over gRPC
// SendStream from bench/stream-load.ts, a process of its own like wrk (--stream-streams streams,
// each keeping --stream-window frames unanswered when it sends as fast as answered). --redis-cluster runs the fleet on the local Redis Cluster (sharded
// queues, sharded Pub/Sub); --ordered / --unordered set queue.ordered; --cpu-prof writes a CPU
// profile of every role into the report's folder (profiles/).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { Queue, Worker } from 'bullmq';
import type { RowDataPacket } from 'mysql2/promise';
import { schema as CONFIG_DEFAULTS } from '@im/config';
import { createRedis } from '@im/redis';
import { createTestDatabase } from '../test/support/db';
import { randomUserBase, TEST_TOKEN, testRedis, testRedisTarget, testServers, topology } from '../test/support/env';
import { freePort, Fleet, type FleetRole } from '../test/support/fleet';
import { waitFor } from '../test/support/wait';
import pLimit from 'p-limit';
import { cpuMeter, peakRssMeter, pidListeningOn, portOf, procStats } from './proc';
import { markdown, ROLES, type Batching, type Report, type SendPhase, type LatencyPhase, type Percentiles } from './report';
import { profileMarkdown, summarizeProfiles } from './profile';
import { runStream } from './stream';
import { ensureWrk, runWrk, type WrkResult } from './wrk';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    single: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '100000' },
    naive: { type: 'string', default: '10000' },
    noop: { type: 'string', default: '30000' },
    rate: { type: 'string', default: '2000' },
    'rate-seconds': { type: 'string', default: '10' },
    levels: { type: 'string', default: '25,50,80' },
    burst: { type: 'string', default: '100000' },
    'group-members': { type: 'string', default: '10000' },
    users: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '64' },
    'rate-connections': { type: 'string', default: '256' },
    'burst-connections': { type: 'string', default: '256' },
    'wrk-threads': { type: 'string', default: '1' },
    /** Streamed single sends in S; empty: as many as --single. */
    'stream-single': { type: 'string', default: '' },
    'stream-streams': { type: 'string', default: '4' },
    'stream-window': { type: 'string', default: '64' },
    shards: { type: 'string', default: '3' },
    'redis-cluster': { type: 'boolean', default: false },
    ordered: { type: 'boolean', default: false },
    unordered: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    /** Extra node options for every role (space separated), e.g. "--max-semi-space-size=4". */
    'node-args': { type: 'string', default: '' },
  },
});
const { 'redis-cluster': onCluster, ordered, unordered, levels: levelList, 'cpu-prof': cpuProf, 'node-args': nodeArgs, ...numeric } = values;
if (ordered && unordered) throw new Error('give --ordered or --unordered, not both');
const opt = Object.fromEntries(Object.entries(numeric).map(([k, v]) => [k, Number(v)])) as Record<keyof typeof numeric, number>;
const levels = levelList.split(',').filter(Boolean).map(Number);
if (onCluster) {
  if (!process.env.TEST_REDIS_CLUSTER_NODES) throw new Error('--redis-cluster: no local Redis Cluster (npm run bench starts one with the test stack)');
  process.env.TEST_TOPOLOGY = 'cluster';
  process.env.TEST_SHARDS = String(opt.shards);
  process.env.TEST_PUBSUB = 'sharded';
}
const topo = topology();
const log = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
/** This machine's wall clock (ms) on the monotonic µs clock of nowUs() and of the wrk script. */
const wallOffsetUs = Date.now() * 1000 - nowUs();
const wallMsToUs = (ms: number) => ms * 1000 - wallOffsetUs;

const wrk = ensureWrk(log);
if (!wrk.path) {
  log(`no load generator: ${wrk.why}. The bench needs wrk for its single sends; stopping.`);
  process.exit(2);
}
const wrkVersion = /wrk (\S+)/.exec(spawnSync(wrk.path, ['-v'], { encoding: 'utf8' }).stdout)?.[1] ?? 'unknown';

const started = { at: new Date().toISOString(), loadavg: loadavg().map((x) => Math.round(x * 100) / 100) };
const outDir = join(ROOT, 'bench-out', started.at.replace(/[:.]/g, '-'));
mkdirSync(outDir, { recursive: true });

// ---- the servers the fleet runs on: their processes, for CPU and peak RSS ---------------------
const { redisUrl } = testServers();
const db = await createTestDatabase();
function serverPids(): Record<string, number> {
  const out: Record<string, number> = {};
  const mysql = pidListeningOn(portOf(db.url));
  if (mysql) out.mariadbd = mysql;
  if (!topo.cluster) {
    const r = pidListeningOn(portOf(redisUrl));
    if (r) out['redis-server'] = r;
  } else {
    for (const address of topo.clusterNodes) {
      const r = pidListeningOn(portOf(address));
      if (r) out[`redis ${portOf(address)}`] = r;
    }
  }
  return out;
}
const servers = serverPids();

// ---- HTTP for batch sends and the group send ------------------------------------------------
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
function percentiles(values: number[], scale = 1): Percentiles | null {
  if (values.length === 0) return null;
  const s = Float64Array.from(values).sort();
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(s.length * p))]! / scale;
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: s[s.length - 1]! / scale };
}

const profileDir = join(outDir, 'profiles');
const fleet = await new Fleet(
  db.url,
  { IM_LOG_LEVEL: 'error', IM_MESSAGE_LIMITS_ACK_TIMEOUT_S: '3600', ...(ordered ? { IM_QUEUE_ORDERED: 'true' } : unordered ? { IM_QUEUE_ORDERED: 'false' } : {}) },
  [...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...nodeArgs.split(' ').filter(Boolean)],
).startAll(ROLES);
const grpcTarget = () => `127.0.0.1:${fleet.grpcPort}`;
const rolePids = () => Object.fromEntries(ROLES.map((r) => [r, fleet.procs.get(r)!.child.pid!]));

/** Jobs and messages through persist and delivery so far, from the workers' /metrics. */
interface PipelineCounters {
  persistJobs: number;
  persistJobS: number;
  persisted: number;
  deliverJobs: number;
  deliverJobS: number;
  deliveries: number;
}
async function pipelineCounters(): Promise<PipelineCounters> {
  const scrape = async (role: FleetRole) => (await (await fetch(`http://127.0.0.1:${fleet.procs.get(role)!.port}/metrics`)).text()).split('\n');
  const sum = (lines: string[], metric: string, queue?: string) =>
    lines
      .filter((l) => l.startsWith(metric) && (queue === undefined || l.includes(`queue="${queue}`)))
      .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  const [persist, delivery] = await Promise.all([scrape('worker-persist'), scrape('worker-delivery')]);
  return {
    persistJobs: sum(persist, 'im_job_duration_seconds_count', 'im.persist'),
    persistJobS: sum(persist, 'im_job_duration_seconds_sum', 'im.persist'),
    persisted: sum(persist, 'im_messages_persisted_total'),
    deliverJobs: sum(delivery, 'im_job_duration_seconds_count', 'im.deliver'),
    deliverJobS: sum(delivery, 'im_job_duration_seconds_sum', 'im.deliver'),
    deliveries: sum(delivery, 'im_deliveries_total'),
  };
}
function batching(a: PipelineCounters, b: PipelineCounters): Batching {
  const pj = b.persistJobs - a.persistJobs;
  const dj = b.deliverJobs - a.deliverJobs;
  return {
    persist_jobs: pj,
    messages_per_persist_job: (b.persisted - a.persisted) / Math.max(1, pj),
    persist_job_ms: ((b.persistJobS - a.persistJobS) / Math.max(1, pj)) * 1000,
    deliver_jobs: dj,
    deliveries_per_deliver_job: (b.deliveries - a.deliveries) / Math.max(1, dj),
    deliver_job_ms: ((b.deliverJobS - a.deliverJobS) / Math.max(1, dj)) * 1000,
  };
}
const base = randomUserBase();
const users = Array.from({ length: opt.users }, (_, i) => String(base + BigInt(i + 1)));
const onlineList = users.filter((_, i) => i % 2 === 0);
log(`fleet up; creating ${users.length} users, half of them online`);
for (let i = 0; i < users.length; i += 2000) {
  const chunk = users.slice(i, i + 2000);
  await db.pool.query(`INSERT INTO \`user\` (id, name, created_at, updated_at) VALUES ${chunk.map(() => '(?, ?, 0, 0)').join(', ')}`, chunk.flatMap((u) => [u, `user ${u}`]));
}

// ---- the gateway's side: one subscriber for every online user --------------------------------
// Each message is counted once (by message_id). A send from wrk carries a=<µs written> (and
// s=<µs due> at a constant rate) in its content and its phase in its client_msg_id prefix, so
// POST to PUBLISH is measured here, on the same clock, as the gateway sees it.
interface Heard {
  count: number;
  /** POST written to PUBLISH heard, µs. */
  fromWrite: number[];
  /** Due time to PUBLISH heard, µs (constant rate only): includes any lateness of the generator. */
  fromDue: number[];
  /** How late the generator wrote each send after its due time, µs. */
  late: number[];
  firstWriteUs: number;
  lastWriteUs: number;
}
const heard = new Set<string>();
let lastHeardUs = 0;
const phaseHeard = new Map<string, Heard>();
const sub = createRedis(testRedisTarget(), 'subscriber', 'bench-gateway');
const messageEvent = topo.pubsub === 'sharded' ? 'smessage' : 'message';
sub.on(messageEvent, (_c: string, raw: string) => {
  const t = nowUs();
  const m = JSON.parse(raw) as { message_id: string; content?: string; client_msg_id?: string | null };
  if (heard.has(m.message_id)) return;
  heard.add(m.message_id);
  lastHeardUs = t;
  const cid = m.client_msg_id;
  if (!cid || !m.content) return;
  const h = phaseHeard.get(cid.slice(0, cid.lastIndexOf('-') + 1));
  if (!h) return;
  h.count++;
  const a = /\ba=(\d+)/.exec(m.content);
  if (!a) return;
  const written = Number(a[1]);
  h.fromWrite.push(t - written);
  if (h.firstWriteUs === 0 || written < h.firstWriteUs) h.firstWriteUs = written;
  if (written > h.lastWriteUs) h.lastWriteUs = written;
  const s = /\bs=(\d+)/.exec(m.content);
  if (s) {
    h.fromDue.push(t - Number(s[1]));
    h.late.push(written - Number(s[1]));
  }
});
async function listen(userIds: readonly string[]): Promise<void> {
  const channels = userIds.map((u) => `user:${u}`);
  if (topo.pubsub === 'sharded') await Promise.all(channels.map((c) => sub.ssubscribe(c)));
  else for (let i = 0; i < channels.length; i += 1000) await sub.subscribe(...channels.slice(i, i + 1000));
}
await listen(onlineList);
const admin = testRedis();
await Promise.all(onlineList.map((u) => admin.set(`im:presence:${u}`, 'gw-bench', 'EX', 7200)));

/** Offline rows in all, and the time of the newest one (created_at is set when delivery stores it). */
async function offlineState(): Promise<{ count: number; lastMs: number }> {
  const [r] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n, COALESCE(MAX(created_at), 0) AS t FROM offline_message');
  return { count: Number(r[0]!.n), lastMs: Number(r[0]!.t) };
}

/**
 * Waits until `accepted` messages sent since `before` are routed (heard by the subscriber or stored
 * offline), and returns when the last of them was, on the monotonic µs clock.
 */
async function routed(name: string, before: { offline: number; heard: number }, accepted: number): Promise<number> {
  const state = await waitFor(
    `${name}: all routed`,
    async () => {
      const s = await offlineState();
      return s.count - before.offline + heard.size - before.heard >= accepted ? s : undefined;
    },
    900_000,
  );
  return Math.max(lastHeardUs, wallMsToUs(state.lastMs));
}

/** Fleet messages accepted (answered 202), per phase: the correctness check expects each in history once. */
const fleetAccepted = new Map<string, number>();

/** Single sends from wrk: `total` of them, closed loop or at `rate`; waits until all are routed. */
async function wrkPhase(
  name: string,
  prefix: string,
  url: string,
  total: number,
  o: { connections: number; rate?: number; receivers: readonly string[]; fleetPhase: boolean; extraPids?: Record<string, number>; stream?: boolean },
): Promise<{ phase: SendPhase; wrk: WrkResult; heard: Heard }> {
  const h: Heard = { count: 0, fromWrite: [], fromDue: [], late: [], firstWriteUs: 0, lastWriteUs: 0 };
  phaseHeard.set(prefix, h);
  const before = { offline: (await offlineState()).count, heard: heard.size };
  const counters0 = o.fleetPhase ? await pipelineCounters() : null;
  const meter = cpuMeter({ ...(o.fleetPhase ? rolePids() : {}), ...(o.extraPids ?? {}), ...servers });
  const peaks = o.fleetPhase ? peakRssMeter(rolePids()) : null;
  const self0 = process.cpuUsage();
  let lastLog = 0;
  const common = {
    total,
    rate: o.rate,
    senders: users,
    receivers: o.receivers,
    prefix,
    token: TEST_TOKEN,
    onProgress: (n: number) => {
      if (Date.now() - lastLog > 2000) {
        lastLog = Date.now();
        log(`${name}: ${n}/${total} answered`);
      }
    },
  };
  const w = o.stream
    ? await runStream({ ...common, target: url, streams: o.connections, window: opt['stream-window'] })
    : await runWrk({ ...common, url, connections: o.connections, threads: opt['wrk-threads'] });
  if (!w.complete) throw new Error(`${name}: wrk stopped at its deadline with ${w.answered}/${total} answered`);
  if (o.fleetPhase) fleetAccepted.set(prefix, w.accepted);
  const doneUs = await routed(name, before, w.accepted);
  const cpu = meter();
  const self = process.cpuUsage(self0);
  const pipeline = counters0 ? batching(counters0, await pipelineCounters()) : null;
  const per1000 = (s: number) => (s / Math.max(1, w.accepted)) * 1000;
  const roleCpu = Object.fromEntries(ROLES.filter((r) => r in cpu).map((r) => [r, per1000(cpu[r]!)]));
  const otherCpu = Object.fromEntries(Object.entries(cpu).filter(([k]) => !ROLES.includes(k as FleetRole)).map(([k, v]) => [k, per1000(v)]));
  const routedS = (doneUs - w.first_us) / 1e6;
  const phase: SendPhase = {
    messages: total,
    accepted: w.accepted,
    refused: w.other_statuses,
    socket_errors: w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout,
    connections: o.connections,
    accept_s: (w.last_us - w.first_us) / 1e6,
    routed_s: routedS,
    drain_s: Math.max(0, (doneUs - w.last_us) / 1e6),
    msgs_per_s: w.accepted / routedS,
    accept_per_s: w.accepted / ((w.last_us - w.first_us) / 1e6),
    post_to_answer_ms: { n: w.answered, p50: w.latency_us.p50 / 1000, p90: w.latency_us.p90 / 1000, p99: w.latency_us.p99 / 1000, p999: w.latency_us.p999 / 1000, max: w.latency_us.max / 1000 },
    post_to_publish_ms: percentiles(h.fromWrite, 1000),
    fleet_cpu_s_per_1000: o.fleetPhase ? Object.values(roleCpu).reduce((a, b) => a + b, 0) : null,
    cpu_s_per_1000_by_role: o.fleetPhase ? roleCpu : null,
    peak_rss_by_role: peaks ? peaks() : null,
    cpu_s_per_1000_other: { ...otherCpu, 'bench (subscriber)': per1000((self.user + self.system) / 1e6) },
    generator: o.stream
      ? { tool: `stream-load (grpc-js SendStream, ${o.connections} streams${o.rate ? '' : ` x ${opt['stream-window']} unanswered`})`, threads: 1, cpu_s: w.cpu_s, cpu_s_per_1000: per1000(w.cpu_s), peak_rss: w.peak_rss }
      : { tool: `wrk ${wrkVersion}`, threads: opt['wrk-threads'], cpu_s: w.cpu_s, cpu_s_per_1000: per1000(w.cpu_s), peak_rss: w.peak_rss },
    batching: pipeline,
  };
  log(`${name}: ${w.accepted} accepted in ${phase.accept_s.toFixed(2)} s, routed in ${routedS.toFixed(2)} s = ${Math.round(phase.msgs_per_s)} messages/s; wrk ${w.cpu_s.toFixed(2)} CPU s`);
  return { phase, wrk: w, heard: h };
}

/** Single sends at a constant rate to online receivers: POST to PUBLISH as the gateway sees it. */
async function latencyPhase(name: string, prefix: string, rate: number, seconds: number, stream = false): Promise<LatencyPhase> {
  const total = Math.max(1, Math.round(rate * seconds));
  log(`${name}: ${Math.round(rate)} sends/s for ${seconds} s (${total} sends), receivers online${stream ? ', over SendStream' : ''}`);
  const { phase, heard: h } = stream
    ? await wrkPhase(name, prefix, grpcTarget(), total, { connections: opt['stream-streams'], rate, receivers: onlineList, fleetPhase: true, stream: true })
    : await wrkPhase(name, prefix, fleet.baseUrl, total, { connections: opt['rate-connections'], rate, receivers: onlineList, fleetPhase: true });
  const window = (h.lastWriteUs - h.firstWriteUs) / 1e6;
  const result: LatencyPhase = {
    ...phase,
    offered_rate: rate,
    achieved_rate: window > 0 ? (h.fromWrite.length - 1) / window : 0,
    from_due_ms: percentiles(h.fromDue, 1000),
    generator_late_ms: percentiles(h.late, 1000),
  };
  const p = result.post_to_publish_ms;
  if (p) log(`${name}: POST to PUBLISH p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, p99.9 ${p.p999.toFixed(1)} ms (${h.fromWrite.length} heard)`);
  return result;
}

/** Batch sends from this process (node:http): `total` messages, `perRequest` per POST, `concurrency` in flight. */
async function batchPhase(name: string, total: number, perRequest: number, concurrency: number): Promise<SendPhase> {
  const before = { offline: (await offlineState()).count, heard: heard.size };
  const counters0 = await pipelineCounters();
  const meter = cpuMeter({ ...rolePids(), ...servers });
  const peaks = peakRssMeter(rolePids());
  const self0 = process.cpuUsage();
  let done = 0;
  let n = 0;
  const progress = setInterval(() => log(`${name}: ${done}/${total} accepted`), 2000);
  const limit = pLimit(concurrency);
  const sizes = Array.from({ length: Math.ceil(total / perRequest) }, (_, i) => Math.min(perRequest, total - i * perRequest));
  const prefix = 'bench-D-';
  const t0 = nowUs();
  const retried: Record<string, number> = {};
  const send = async (count: number) => {
    const items = Array.from({ length: count }, () => {
      const k = n++;
      return { sender_id: users[k % users.length]!, receiver_id: users[(k * 7 + 1) % users.length]!, content: `batch ${k} 你好 🚀`, client_msg_id: `${prefix}${k}` };
    });
    // An item refused with a retryable error (503 on a busy machine) is sent again with its
    // client_msg_id, as the contract tells a gateway to: a retry answers the first outcome.
    let todo = items;
    for (let attempt = 1; todo.length > 0; attempt++) {
      const r = await post(fleet.baseUrl + '/v1/messages/batch', { messages: todo });
      if (r.status !== 202 && r.status !== 200) throw new Error(`${name}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      const again = todo.filter((_, i) => {
        const res = r.body.results[i];
        if (res.message_id) return false;
        if (attempt === 10 || !['UNAVAILABLE', 'RESOURCE_EXHAUSTED'].includes(res.error?.code)) throw new Error(`${name}: refused ${JSON.stringify(res)}`);
        retried[res.error.code] = (retried[res.error.code] ?? 0) + 1;
        return true;
      });
      todo = again;
      if (todo.length > 0) await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
    done += count;
  };
  await Promise.all(sizes.map((k) => limit(() => send(k))));
  const acceptedUs = nowUs();
  fleetAccepted.set(prefix, total);
  const doneUs = await routed(name, before, total);
  clearInterval(progress);
  const cpu = meter();
  const self = process.cpuUsage(self0);
  const pipeline = batching(counters0, await pipelineCounters());
  const per1000 = (s: number) => (s / total) * 1000;
  const roleCpu = Object.fromEntries(ROLES.map((r) => [r, per1000(cpu[r]!)]));
  const routedS = (doneUs - t0) / 1e6;
  log(`${name}: ${total} accepted in ${((acceptedUs - t0) / 1e6).toFixed(2)} s, routed in ${routedS.toFixed(2)} s = ${Math.round(total / routedS)} messages/s`);
  return {
    messages: total,
    accepted: total,
    refused: Object.fromEntries(Object.entries(retried).map(([code, k]) => [`${code} (sent again)`, k])),
    socket_errors: 0,
    connections: concurrency,
    accept_s: (acceptedUs - t0) / 1e6,
    routed_s: routedS,
    drain_s: (doneUs - acceptedUs) / 1e6,
    msgs_per_s: total / routedS,
    accept_per_s: total / ((acceptedUs - t0) / 1e6),
    post_to_answer_ms: null,
    post_to_publish_ms: null,
    fleet_cpu_s_per_1000: Object.values(roleCpu).reduce((a, b) => a + b, 0),
    cpu_s_per_1000_by_role: roleCpu,
    peak_rss_by_role: peaks(),
    cpu_s_per_1000_other: {
      ...Object.fromEntries(Object.entries(cpu).filter(([k]) => !ROLES.includes(k as FleetRole)).map(([k, v]) => [k, per1000(v)])),
      'bench (generator and subscriber)': per1000((self.user + self.system) / 1e6),
    },
    generator: { tool: 'node:http in the bench process', threads: 1, cpu_s: (self.user + self.system) / 1e6, cpu_s_per_1000: per1000((self.user + self.system) / 1e6), peak_rss: process.memoryUsage.rss() },
    batching: pipeline,
  };
}

const report: Partial<Report> = {
  started,
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  options: { ...opt, levels, redis_cluster: onCluster, ordered, cpu_prof: cpuProf, node_args: nodeArgs },
};
try {
  // A. BullMQ ceiling: no-op jobs through one queue, with the fleet's connection settings.
  {
    log(`A: ${opt.noop} no-op jobs through one BullMQ queue`);
    const conn = createRedis(testRedisTarget(), 'worker', 'bench-noop');
    const prefix = `{benchA${Date.now()}}`;
    const q = new Queue('bench.noop', { connection: conn, prefix, defaultJobOptions: { removeOnComplete: true } });
    for (let i = 0; i < opt.noop; i += 1000) await q.addBulk(Array.from({ length: Math.min(1000, opt.noop - i) }, (_, k) => ({ name: 'noop', data: { n: i + k } })));
    let completed = 0;
    const t0 = performance.now();
    const w = new Worker('bench.noop', async () => {}, { connection: conn, prefix, concurrency: 200 });
    w.on('completed', () => completed++);
    await waitFor('no-op jobs done', () => completed >= opt.noop, 300_000);
    const s = (performance.now() - t0) / 1000;
    await w.close();
    await q.obliterate({ force: true });
    await q.close();
    conn.disconnect();
    report.A = { jobs: opt.noop, s, jobs_per_s: opt.noop / s };
    log(`A: ${Math.round(opt.noop / s)} jobs/s`);
  }

  // B. Naive baseline: the seed's synchronous flow per request, driven by the same generator as C.
  {
    const port = await freePort();
    const naive: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/naive-server.ts'], {
      cwd: ROOT,
      env: { ...process.env, NAIVE_PORT: String(port), MYSQL_URL: db.url, REDIS_URL: redisUrl },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((r) => naive.stdout!.once('data', r));
    if (opt.warmup > 0) {
      log(`B warm-up: ${opt.warmup} single sends`);
      await wrkPhase('B warm-up', 'naive-W-', `http://127.0.0.1:${port}`, opt.warmup, { connections: opt.connections, receivers: users, fleetPhase: false });
    }
    log(`B: naive synchronous handler, ${opt.naive} single sends`);
    const { phase } = await wrkPhase('B naive', 'naive-B-', `http://127.0.0.1:${port}`, opt.naive, {
      connections: opt.connections,
      receivers: users,
      fleetPhase: false,
      extraPids: { 'naive-server': naive.pid! },
    });
    report.B = { ...phase, peak_rss: procStats(naive.pid!).peakRss };
    naive.kill('SIGTERM');
  }

  // Warm-up (not reported): the roles' code paths compiled and their pools and caches filled, so
  // that C measures the steady state rather than the first seconds of a cold process.
  if (opt.warmup > 0) {
    log(`warm-up: ${opt.warmup} single sends`);
    await wrkPhase('warm-up', 'bench-W-', fleet.baseUrl, opt.warmup, { connections: opt.connections, receivers: users, fleetPhase: true });
  }

  if (opt.warmup > 0) {
    log(`stream warm-up: ${opt.warmup} streamed single sends`);
    await wrkPhase('stream warm-up', 'bench-WS-', grpcTarget(), opt.warmup, { connections: opt['stream-streams'], receivers: users, fleetPhase: true, stream: true });
  }

  // C. The fleet, single sends as fast as it answers.
  const measuredFromUs = nowUs();
  log(`C: ${opt.single} single sends, ${opt.connections} connections`);
  report.C = (await wrkPhase('C fleet single', 'bench-C-', fleet.baseUrl, opt.single, { connections: opt.connections, receivers: users, fleetPhase: true })).phase;
  // S. The same single sends over the gateway link (gRPC SendStream), as fast as answered.
  const streamed = opt['stream-single'] || opt.single;
  log(`S: ${streamed} streamed single sends, ${opt['stream-streams']} streams x ${opt['stream-window']} unanswered`);
  report.S = (await wrkPhase('S fleet streamed', 'bench-S-', grpcTarget(), streamed, { connections: opt['stream-streams'], receivers: users, fleetPhase: true, stream: true })).phase;
  // D. The fleet, batch sends of 100.
  report.D = await batchPhase('D fleet batch', opt.batch, 100, 8);

  // E. Latency at a fixed rate, every receiver online: POST written to PUBLISH seen.
  report.E = await latencyPhase('E', 'bench-E-', opt.rate, opt['rate-seconds']);
  // SE. The same rate over the stream: send written to PUBLISH heard.
  report.SE = await latencyPhase('SE', 'bench-SE-', opt.rate, opt['rate-seconds'], true);

  // H. Latency at shares of C's measured maximum.
  report.H = [];
  for (const level of levels) {
    const rate = (report.C.msgs_per_s * level) / 100;
    report.H.push({ level, ...(await latencyPhase(`H ${level} %`, `bench-H${level}-`, rate, opt['rate-seconds'])) });
  }

  // G. Burst: single sends as fast as the generator gets answers, then the queues drain.
  if (opt.burst > 0) {
    log(`G: burst of ${opt.burst} single sends, ${opt['burst-connections']} connections`);
    report.G = (await wrkPhase('G burst', 'bench-G-', fleet.baseUrl, opt.burst, { connections: opt['burst-connections'], receivers: users, fleetPhase: true })).phase;
  }

  const measuredToUs = nowUs();

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
    const t0 = performance.now();
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
    const ms = performance.now() - t0;
    report.F = { members: n, last_member_ms: ms, deliveries_per_s: (n - 1) / (ms / 1000) };
    log(`F: last member routed after ${ms.toFixed(0)} ms`);
  }

  // Correctness: every fleet message answered 202 is in history exactly once, and routed.
  {
    log('verifying: history exactly once, every message routed');
    const expected = [...fleetAccepted.values()].reduce((a, b) => a + b, 0);
    const [h] = await db.pool.query<RowDataPacket[]>("SELECT COUNT(*) AS n, COUNT(DISTINCT client_msg_id) AS d FROM message_history WHERE client_msg_id LIKE 'bench-%'");
    let after = '0';
    let routedCount = 0;
    let offline = 0;
    let rows = 0;
    for (;;) {
      const [page] = await db.pool.query<RowDataPacket[]>(
        `SELECT h.message_id, o.user_id IS NOT NULL AS off FROM message_history h
           LEFT JOIN offline_message o ON o.user_id = h.receiver_id AND o.message_id = h.message_id
          WHERE h.message_id > ? AND h.client_msg_id LIKE 'bench-%' ORDER BY h.message_id LIMIT 20000`,
        [after],
      );
      if (page.length === 0) break;
      for (const r of page) {
        rows++;
        const off = Number(r.off) === 1;
        if (off) offline++;
        if (off || heard.has(String(r.message_id))) routedCount++;
      }
      after = String(page.at(-1)!.message_id);
    }
    report.correctness = { accepted: expected, by_phase: Object.fromEntries(fleetAccepted), history_rows: Number(h[0]!.n), distinct_client_msg_ids: Number(h[0]!.d), routed: routedCount, offline };
    if (Number(h[0]!.n) !== expected || Number(h[0]!.d) !== expected || routedCount !== rows) throw new Error(`correctness check failed: ${JSON.stringify(report.correctness)}`);
    log(`verified: ${expected} messages, each in history once and routed`);
  }

  const peak: Record<string, number> = {};
  for (const r of ROLES) peak[r] = procStats(fleet.procs.get(r)!.child.pid!).peakRss;
  for (const [name, pid] of Object.entries(servers)) peak[name] = procStats(pid).peakRss;
  report.peak_rss_bytes = peak;
  report.topology = { redis: topo.cluster ? `cluster of ${topo.clusterNodes.length} nodes (3 primaries, 3 replicas)` : 'one server', shards: topo.shards, pubsub: topo.pubsub, ordered: ordered || (!unordered && CONFIG_DEFAULTS.queue.ordered.default) };
  const [[ver]] = (await db.pool.query('SELECT VERSION() AS v')) as unknown as [[{ v: string }]];
  const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1];
  report.machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, mariadb: ver.v, redis: redisVersion ?? 'unknown', wrk: wrkVersion };
  report.finished = new Date().toISOString();
  if (cpuProf) {
    // The roles write their profiles when they exit: stop them, then sum up C to G.
    const pids = rolePids();
    await fleet.stop();
    const profiles = summarizeProfiles(profileDir, pids, measuredFromUs, measuredToUs, ROOT);
    writeFileSync(join(outDir, 'profiles.md'), profileMarkdown(profiles, 'from the start of C to the end of G'));
    report.profiles = Object.fromEntries(profiles.map((p) => [p.role, { busy_ms: p.busyMs, top: p.categories.slice(0, 6) }]));
  }

  const full = report as Report;
  writeFileSync(join(outDir, 'report.json'), JSON.stringify(full, null, 2) + '\n');
  writeFileSync(join(outDir, 'report.md'), markdown(full));
  log(`report: ${join('bench-out', outDir.split('/bench-out/')[1]!, 'report.md')}`);
  process.stdout.write(markdown(full));
} finally {
  agent.destroy();
  sub.disconnect();
  admin.disconnect();
  await fleet.stop();
  await db.drop();
}
