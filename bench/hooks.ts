// npm run bench -- hooks [--sends 3000] [--concurrency 32] [--rounds 3]: the before_send hook's
// cost on the send path. ingest-api runs in this process (createIngest, as the integration tests
// run it) against the real Redis and MariaDB; the same single sends (POST /v1/messages, through
// Fastify's inject) are timed without a hook, then with a hook (a process of its own on loopback)
// that accepts every message, alternating rounds. The hook's own work is nil, so the difference is
// what the call costs ingest: one signed HTTP request per micro-batch of concurrent sends, its
// JSON, and the wait. Prints a markdown table.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { loadConfig } from '@im/config';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import pLimit from 'p-limit';
import { createIngest } from '../apps/ingest-api/src/ingest';
import { createTestDatabase } from '../test/support/db';
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

async function measure(withHook: boolean): Promise<{ rps: number; p50: number; p99: number; refused: number }> {
  const prefix = `{${uniqueName('imb')}}`;
  prefixes.push(prefix);
  const env: Record<string, string> = { REDIS_URL: testServers().redisUrl, MYSQL_URL: db.url, IM_API_TOKENS: TEST_TOKEN, IM_QUEUE_PREFIX: prefix, IM_RATE_LIMIT_PER_SENDER_PER_S: '0', IM_LOG_LEVEL: 'silent' };
  if (withHook) Object.assign(env, { IM_HOOKS_BEFORE_SEND_URL: hookUrl, IM_HOOKS_SECRET: 'bench-secret', IM_HOOKS_BEFORE_SEND_TIMEOUT_MS: '750' });
  const ingest = await createIngest(loadConfig({ env }), createLogger('ingest-api', 'silent'), createMetrics('ingest-api'));
  await ingest.app.ready();
  const headers = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
  for (const u of users) await ingest.app.inject({ method: 'PUT', url: `/v1/users/${u}`, headers, payload: '{"name":"u"}' });
  const limit = pLimit(concurrency);
  const latencies: number[] = [];
  let refused = 0;
  const send = (i: number) =>
    limit(async () => {
      const t0 = process.hrtime.bigint();
      const res = await ingest.app.inject({ method: 'POST', url: '/v1/messages', headers, payload: JSON.stringify({ sender_id: users[i % users.length], receiver_id: users[(i + 1) % users.length], content: `bench ${i}` }) });
      if (res.statusCode !== 202) refused++;
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  await Promise.all(Array.from({ length: 300 }, (_, i) => send(i))); // warm-up
  latencies.length = 0;
  refused = 0;
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: sends }, (_, i) => send(i)));
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  for (const [, run] of ingest.shutdownSteps) await run();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { rps: (sends - refused) / secs, p50: q(0.5), p99: q(0.99), refused };
}

const rows: string[] = [];
for (let r = 1; r <= rounds; r++) {
  for (const withHook of [false, true]) {
    const m = await measure(withHook);
    log(`round ${r} ${withHook ? 'with hook' : 'no hook'}: ${m.rps.toFixed(0)} sends/s accepted, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, ${m.refused} not accepted`);
    rows.push(`| ${r} | ${withHook ? 'before_send (accepts all, loopback)' : 'none'} | ${m.rps.toFixed(0)} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${m.refused} |`);
  }
}
process.stdout.write(`${sends} single sends per run, ${concurrency} in flight, ingest in process (inject), real Redis and MariaDB\n\n| round | hook | accepted sends/s | p50 ms | p99 ms | not accepted (503) |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n`);

for (const prefix of prefixes) {
  const q = new Queue('im.persist', { connection: { url: testServers().redisUrl } as never, prefix });
  await q.obliterate({ force: true });
  await q.close();
}
await db.drop();
hook.kill();
process.exit(0);
