// The cleaner on a large table: rows deleted per second, and API latency before and during a sweep.
//   npm run bench -- cleaner [--rows 2000000]
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import type { Job } from 'bullmq';
import { loadConfig } from '@im/config';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import { handleSweep, sweepDeps } from '../apps/worker-cleaner/src/sweep.handler';
import { createTestDatabase } from '../test/support/db';
import { randomUserBase, TEST_TOKEN, testServers } from '../test/support/env';
import { Fleet } from '../test/support/fleet';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '2000000' } }, allowPositionals: true });
const ROWS = Number(values.rows);
const log = (m: string) => process.stderr.write(`[cleaner] ${m}\n`);

const db = await createTestDatabase();
const fleet = await new Fleet(db.url, { IM_LOG_LEVEL: 'error' }).startAll(['ingest-api', 'worker-persist', 'worker-delivery']);
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
const base = randomUserBase();
const [alice, bob] = [String(base + 1n), String(base + 2n)];
await fleet.api.put(`/v1/users/${alice}`, { name: 'alice' });
await fleet.api.put(`/v1/users/${bob}`, { name: 'bob' });

function call(method: string, path: string, body?: unknown): Promise<number> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = request(
      fleet.baseUrl + path,
      { method, agent, headers: { authorization: `Bearer ${TEST_TOKEN}`, ...(data ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode! < 300 ? resolve(performance.now() - t) : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** A steady, moderate load (a send and a pull every 10 ms) while `during` runs; returns latencies. */
async function probe(during: () => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      latencies.push(await call('POST', '/v1/messages', { sender_id: alice, receiver_id: bob, content: 'still there?' }));
      latencies.push(await call('GET', `/v1/users/${bob}/offline-messages?limit=10`));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await during();
  stop = true;
  await loop;
  return latencies.sort((a, b) => a - b);
}
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

try {
  log(`filling ${ROWS} expired offline rows`);
  const old = Date.now() - 40 * 86_400_000;
  for (let done = 0; done < ROWS; done += 10_000) {
    const rows = Array.from({ length: 10_000 }, (_, i) => [String(base + 10n + BigInt((done + i) % 50_000)), String(1_000_000 + done + i), old]);
    await db.pool.query(`INSERT INTO offline_message (user_id, message_id, created_at) VALUES ${rows.map(() => '(?, ?, ?)').join(', ')}`, rows.flat());
    if ((done + 10_000) % 500_000 === 0) log(`${done + 10_000} rows`);
  }
  const baseline = await probe(() => new Promise((r) => setTimeout(r, 5000)));
  const metrics = createMetrics('bench');
  let seconds = 0;
  const during = await probe(async () => {
    const t = performance.now();
    await handleSweep(
      { task: 'sweep' },
      {
        deps: sweepDeps(db.pool, loadConfig({ env: { REDIS_URL: testServers().redisUrl, MYSQL_URL: db.url, IM_API_TOKENS: TEST_TOKEN } }), metrics),
        log: createLogger('bench', 'warn'),
        attempt: 1,
        job: { updateProgress: async () => {} } as unknown as Job,
      },
    );
    seconds = (performance.now() - t) / 1000;
  });
  const deleted = (await metrics.cleanerDeleted.get()).values.reduce((s, v) => s + v.value, 0);
  const report = {
    rows: ROWS,
    deleted,
    sweep_s: Number(seconds.toFixed(2)),
    rows_deleted_per_s: Math.round(deleted / seconds),
    api_baseline_ms: { requests: baseline.length, p50: Number(pct(baseline, 0.5).toFixed(1)), p99: Number(pct(baseline, 0.99).toFixed(1)) },
    api_during_sweep_ms: { requests: during.length, p50: Number(pct(during, 0.5).toFixed(1)), p99: Number(pct(during, 0.99).toFixed(1)), max: Number(during.at(-1)!.toFixed(1)) },
  };
  log(`deleted ${deleted} rows in ${seconds.toFixed(1)} s = ${report.rows_deleted_per_s} rows/s`);
  log(`API p50/p99 ms: baseline ${report.api_baseline_ms.p50}/${report.api_baseline_ms.p99}, during the sweep ${report.api_during_sweep_ms.p50}/${report.api_during_sweep_ms.p99}`);
  process.stdout.write(JSON.stringify(report) + '\n');
} finally {
  agent.destroy();
  await fleet.stop();
  await db.drop();
}
