// The batch worker's own cost per job: how much CPU the worker process and Redis spend to take
// jobs in rounds and settle them, with a handler that does nothing.
//   npm run bench -- rounds [--jobs 20000] [--runs 3]
// Adds `jobs` persist jobs of one small message each, then lets startBatchWorker take them (up to
// 100 per round, two rounds in flight, as worker-persist does) and reports CPU seconds per 1,000
// jobs of this process and of redis-server, per run.
import { parseArgs } from 'node:util';
import { loadConfig } from '@im/config';
import { createMetrics } from '@im/metrics';
import { closeRedis, createRedis, topology } from '@im/redis';
import { createQueue, startBatchWorker } from '@im/worker-kit';
import { silentLog } from '@im/worker-kit/testing';
import { testServers, uniqueName } from '../test/support/env';
import { cpuMeter, pidListeningOn, portOf } from './proc';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '20000' }, runs: { type: 'string', default: '3' } }, allowPositionals: true });
const JOBS = Number(values.jobs);
const { redisUrl, mysqlUrl } = testServers();
const redisPid = pidListeningOn(portOf(redisUrl));

for (let run = 1; run <= Number(values.runs); run++) {
  const config = loadConfig({ env: { REDIS_URL: redisUrl, MYSQL_URL: mysqlUrl, IM_QUEUE_PREFIX: `{${uniqueName('rounds')}}`, IM_API_TOKENS: 'x'.repeat(24) } });
  const redis = createRedis(config.queue, 'worker', 'bench-rounds');
  const producer = createRedis(config.queue, 'producer', 'bench-rounds-add');
  const shard = topology(config.queue).shard(0);
  const queue = createQueue('im.persist', producer, config, silentLog, shard);
  const message = (i: number) => ({ message_id: String(1_000_000 + i), seq: i + 1, sender_id: '1', receiver_id: '2', group_id: null, content: 'hello', message_type: 'text' as const, created_at: Date.now(), client_msg_id: null });
  for (let i = 0; i < JOBS; i += 1000) await queue.addBulk(Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({ name: 'persist', data: { messages: [message(i + k)] }, opts: { jobId: `b${i + k}` } })));

  let done = 0;
  let finished: () => void = () => {};
  const all = new Promise<void>((resolve) => (finished = resolve));
  const meter = cpuMeter({ 'redis-server': redisPid ?? 0, 'this process': process.pid });
  const t0 = performance.now();
  const worker = startBatchWorker({
    queue: 'im.persist',
    shard,
    handler: async (items) => {
      done += items.length;
      if (done >= JOBS) finished();
    },
    deps: {},
    connection: redis,
    config,
    log: silentLog,
    metrics: createMetrics('bench'),
    maxJobs: 100,
  });
  await all;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = meter();
  await worker.close(5000);
  const per1000 = (s: number) => ((s / JOBS) * 1000).toFixed(3);
  process.stdout.write(`run ${run}: ${JOBS} jobs in ${seconds.toFixed(2)} s (${Math.round(JOBS / seconds)} jobs/s); CPU s per 1,000 jobs: worker ${per1000(cpu['this process']!)}, redis-server ${per1000(cpu['redis-server']!)}\n`);
  await queue.obliterate({ force: true });
  await queue.close();
  await Promise.all([closeRedis(redis), closeRedis(producer)]);
}
