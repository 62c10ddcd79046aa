// npm run bench -- hooks [--sends 3000] [--concurrency 32] [--rounds 3]: what the send hooks cost.
// 1. before_send, on the send path: ingest-api runs in this process (createIngest, as the
//    integration tests run it) against the real Redis and MariaDB; the same single sends (POST
//    /v1/messages, through Fastify's inject) are timed without a hook, then with a hook (a process
//    of its own on loopback) that accepts every message, alternating rounds. The hook's own work is
//    nil, so the difference is what the call costs ingest: one signed HTTP request per micro-batch
//    of concurrent sends, its JSON, and the wait. This process's CPU (ingest and the load alike) is
//    reported per 1,000 sends, and the hook's.
// 2. after_send, off the send path: a real worker-persist process stores the same sends without
//    and with hooks.after_send_url (one im.hook job per persist job, added in its hand-off); its
//    CPU per 1,000 messages and the time until all are in history, alternating rounds.
// Prints markdown tables.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { loadConfig } from '@im/config';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import pLimit from 'p-limit';
import { createIngest } from '../apps/ingest-api/src/ingest';
import { createTestDatabase, waitAllInHistory } from '../test/support/db';
import { Fleet } from '../test/support/fleet';
import { procStats } from './proc';
import { randomUserBase, TEST_TOKEN, testServers, uniqueName } from '../test/support/env';

const { values } = parseArgs({ options: { sends: { type: 'string', default: '3000' }, concurrency: { type: 'string', default: '32' }, rounds: { type: 'string', default: '3' } } });
const sends = Number(values.sends);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const log = (m: string) => process.stderr.write(`[bench hooks] ${m}\n`);

// The hook, a process of its own (as a backend would be): accepts everything, answering as
// docs/hooks.md says, and prints its port.
const HOOK = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const n = JSON.parse(Buffer.concat(chunks).toString('utf8')).messages.length;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ results: Array.from({ length: n }, () => ({ action: 'accept' })) }));
  });
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
const hook = spawn(process.execPath, ['-e', HOOK], { stdio: ['ignore', 'pipe', 'inherit'] });
const hookPort = await new Promise<string>((resolve) => hook.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
const hookUrl = `http://127.0.0.1:${hookPort}/before-send`;

const db = await createTestDatabase();
const base = randomUserBase();
const users = Array.from({ length: 200 }, (_, i) => String(base + BigInt(i + 1)));
const prefixes: string[] = [];

async function measure(withHook: boolean, o: { prefix?: string } = {}): Promise<{ rps: number; p50: number; p99: number; refused: number; cpuMs: number; hookCpuMs: number; ids: string[] }> {
  const prefix = o.prefix ?? `{${uniqueName('imb')}}`;
  prefixes.push(prefix);
  const env: Record<string, string> = { REDIS_URL: testServers().redisUrl, MYSQL_URL: db.url, IM_API_TOKENS: TEST_TOKEN, IM_QUEUE_PREFIX: prefix, IM_RATE_LIMIT_PER_SENDER_PER_S: '0', IM_LOG_LEVEL: 'silent' };
  if (withHook) Object.assign(env, { IM_HOOKS_BEFORE_SEND_URL: hookUrl, IM_HOOKS_SECRET: 'bench-secret', IM_HOOKS_BEFORE_SEND_TIMEOUT_MS: '750' });
  const ingest = await createIngest(loadConfig({ env }), createLogger('ingest-api', 'silent'), createMetrics('ingest-api'));
  await ingest.app.ready();
  const headers = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
  for (const u of users) await ingest.app.inject({ method: 'PUT', url: `/v1/users/${u}`, headers, payload: '{"name":"u"}' });
  const limit = pLimit(concurrency);
  const latencies: number[] = [];
  const ids: string[] = [];
  let refused = 0;
  const send = (i: number) =>
    limit(async () => {
      const t0 = process.hrtime.bigint();
      const res = await ingest.app.inject({ method: 'POST', url: '/v1/messages', headers, payload: JSON.stringify({ sender_id: users[i % users.length], receiver_id: users[(i + 1) % users.length], content: `bench ${i}` }) });
      if (res.statusCode !== 202) refused++;
      else ids.push(JSON.parse(res.body).message_id);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  await Promise.all(Array.from({ length: 300 }, (_, i) => send(i))); // warm-up
  latencies.length = 0;
  refused = 0;
  ids.length = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const hook0 = procStats(hook.pid!).cpuS;
  await Promise.all(Array.from({ length: sends }, (_, i) => send(i)));
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const hookCpuMs = (procStats(hook.pid!).cpuS - hook0) * 1000;
  for (const [, run] of ingest.shutdownSteps) await run();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { rps: (sends - refused) / secs, p50: q(0.5), p99: q(0.99), refused, cpuMs, hookCpuMs, ids: [...ids] };
}

const rows: string[] = [];
for (let r = 1; r <= rounds; r++) {
  for (const withHook of [false, true]) {
    const m = await measure(withHook);
    const per1000 = (ms: number) => ((ms * 1000) / (sends - m.refused)).toFixed(0);
    log(`round ${r} ${withHook ? 'with hook' : 'no hook'}: ${m.rps.toFixed(0)} sends/s accepted, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, ${m.refused} not accepted, ${per1000(m.cpuMs)} ms CPU per 1,000`);
    rows.push(`| ${r} | ${withHook ? 'before_send (accepts all, loopback)' : 'none'} | ${m.rps.toFixed(0)} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${m.refused} | ${per1000(m.cpuMs)} | ${withHook ? per1000(m.hookCpuMs) : '-'} |`);
  }
}
process.stdout.write(
  `## before_send\n\n${sends} single sends per run, ${concurrency} in flight, ingest in process (inject), real Redis and MariaDB; CPU: this process (ingest and the load generator), per 1,000 accepted sends\n\n| round | hook | accepted sends/s | p50 ms | p99 ms | not accepted (503) | CPU ms / 1,000 | hook process CPU ms / 1,000 |\n|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
);

// after_send: worker-persist as a real process stores what ingest (in process, no hook) accepts.
const persistRows: string[] = [];
for (let r = 1; r <= rounds; r++) {
  for (const withEvents of [false, true]) {
    const fleet = await new Fleet(db.url, withEvents ? { IM_HOOKS_AFTER_SEND_URL: 'http://127.0.0.1:9/after-send', IM_HOOKS_SECRET: 'bench-secret' } : {}).startAll(['worker-persist']);
    const pid = fleet.procs.get('worker-persist')!.child.pid!;
    const cpu0 = procStats(pid).cpuS;
    const t0 = Date.now();
    const m = await measure(false, { prefix: fleet.prefix });
    await waitAllInHistory(db, m.ids, 120_000);
    const secs = (Date.now() - t0) / 1000;
    const cpuMs = (procStats(pid).cpuS - cpu0) * 1000;
    // The warm-up's 300 sends are stored in this window too.
    const stored = m.ids.length + 300;
    const hookQueue = new Queue('im.hook', { connection: { url: testServers().redisUrl } as never, prefix: fleet.prefix });
    const hookJobs = await hookQueue.count();
    await hookQueue.close();
    await fleet.stop();
    log(`round ${r} ${withEvents ? 'after_send on' : 'after_send off'}: worker-persist ${((cpuMs * 1000) / stored).toFixed(0)} ms CPU per 1,000 messages, all stored in ${secs.toFixed(1)} s, ${hookJobs} im.hook jobs`);
    persistRows.push(`| ${r} | ${withEvents ? 'on' : 'off'} | ${((cpuMs * 1000) / stored).toFixed(0)} | ${secs.toFixed(1)} | ${hookJobs} |`);
  }
}
process.stdout.write(
  `\n## after_send\n\n${sends} single sends (and 300 of warm-up) per run into a real worker-persist process; its CPU per 1,000 messages stored, and the time from the first send until all are in history\n\n| round | after_send | worker-persist CPU ms / 1,000 | all in history (s) | im.hook jobs added |\n|---|---|---|---|---|\n${persistRows.join('\n')}\n`,
);

for (const prefix of prefixes) {
  const q = new Queue('im.persist', { connection: { url: testServers().redisUrl } as never, prefix });
  await q.obliterate({ force: true });
  await q.close();
}
await db.drop();
hook.kill();
process.exit(0);
