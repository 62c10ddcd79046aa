import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import { loadConfig, type Config } from '@im/config';
import type { AcceptedMessage } from '@im/contracts';
import { createMetrics } from '@im/metrics';
import { closeRedis, createRedis, topology, type Redis } from '@im/redis';
import { createQueue, startBatchWorker, startWorker, type StageWorker } from '@im/worker-kit';
import { silentLog } from '@im/worker-kit/testing';
import { TEST_TOKEN, testServers, uniqueName } from '../support/env';
import { waitFor } from '../support/wait';

/** What a driver throws when DNS does not answer (Kubernetes under load): not in any list of "known" outage errors. */
const dnsTimeout = () => Object.assign(new Error('getaddrinfo EAI_AGAIN mysql.im.svc'), { code: 'EAI_AGAIN', syscall: 'getaddrinfo' });
/** What MySQL answers for data it refuses: about the job, so retrying cannot help. */
const tooLong = () => Object.assign(new Error("Data too long for column 'content' at row 1"), { code: 'ER_DATA_TOO_LONG', errno: 1406, sqlState: '22001' });

const message = (n: number): AcceptedMessage => ({
  message_id: String(5_000_000 + n),
  seq: n,
  sender_id: '1',
  receiver_id: '2',
  group_id: null,
  content: 'x',
  message_type: 'text',
  created_at: Date.now(),
  client_msg_id: null,
});

/**
 * One failure policy for the single-job and the batch worker, against real Redis and BullMQ: a
 * failure that is not about the job retries past any count (here 15 tries, more than the 10 a job
 * once had), and lands; a failure about the job goes to the failed set on its first try.
 */
describe('failure policy of the single-job and the batch worker', () => {
  let config: Config;
  let redis: Redis;
  const workers: StageWorker[] = [];
  const shard = () => topology(config.queue).shard(0);

  before(async () => {
    const { redisUrl, mysqlUrl } = testServers();
    config = loadConfig({ env: { REDIS_URL: redisUrl, MYSQL_URL: mysqlUrl, IM_API_TOKENS: TEST_TOKEN, IM_QUEUE_PREFIX: `{${uniqueName('imt')}}`, IM_QUEUE_BACKOFF_MS: '10', IM_QUEUE_MAX_BACKOFF_MS: '100' } });
    redis = createRedis(config.queue, 'worker', 'im-test-failures');
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.close(5000)));
    await closeRedis(redis);
  });

  /** Fails with `error()` the first `times` tries of each job, then succeeds. */
  function flaky(times: number, error: () => Error) {
    const tries = new Map<string, number>();
    return {
      tries,
      run(job: Job) {
        const n = (tries.get(job.id!) ?? 0) + 1;
        tries.set(job.id!, n);
        if (n <= times) throw error();
      },
    };
  }

  for (const kind of ['single-job', 'batch'] as const) {
    const start = (queue: 'im.fanout' | 'im.persist', run: (job: Job) => void): StageWorker => {
      const common = { shard: shard(), deps: {}, connection: redis, config, log: silentLog, metrics: createMetrics('worker-persist') };
      const w =
        kind === 'single-job'
          ? startWorker({ ...common, queue: 'im.fanout', handler: async (_p, ctx) => run(ctx.job) })
          : startBatchWorker({ ...common, queue: 'im.persist', handler: async (items) => items.forEach((i) => run(i.job)) });
      workers.push(w);
      return w;
    };
    const queueOf = () => (kind === 'single-job' ? createQueue('im.fanout', redis, config, silentLog, shard()) : createQueue('im.persist', redis, config, silentLog, shard()));
    const payload = (n: number) =>
      kind === 'single-job' ? { message: { ...message(n), receiver_id: null, group_id: '9' } } : { messages: [message(n)] };

    it(`${kind}: a DNS failure that lasts 15 tries is retried until it passes, and the job completes`, async () => {
      const q = queueOf();
      const f = flaky(15, dnsTimeout);
      const w = start(kind === 'single-job' ? 'im.fanout' : 'im.persist', (job) => f.run(job));
      await q.add(q.name === 'im.fanout' ? 'fanout' : 'persist', payload(1) as never, { jobId: `${kind}-dns` });
      await waitFor('the job completed', async () => (await q.getJob(`${kind}-dns`)) === undefined && f.tries.get(`${kind}-dns`) === 16, 30_000);
      assert.equal(await q.getFailedCount(), 0, 'nothing in the failed set');
      await w.close(5000);
      await q.obliterate({ force: true });
      await q.close();
    });

    it(`${kind}: data MySQL refuses sends the job to the failed set on its first try`, async () => {
      const q = queueOf();
      const f = flaky(1000, tooLong);
      const w = start(kind === 'single-job' ? 'im.fanout' : 'im.persist', (job) => f.run(job));
      await q.add(q.name === 'im.fanout' ? 'fanout' : 'persist', payload(2) as never, { jobId: `${kind}-data` });
      const failed = await waitFor('the job in the failed set', async () => (await q.getFailed())[0], 15_000);
      assert.equal(failed.id, `${kind}-data`);
      assert.equal(f.tries.get(`${kind}-data`), 1, 'tried once');
      assert.match(failed.failedReason, /Data too long/);
      await w.close(5000);
      await q.obliterate({ force: true });
      await q.close();
    });
  }
});
