import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type Config } from '@im/config';
import type { AcceptedMessage, JobPayloads } from '@im/contracts';
import { createMetrics } from '@im/metrics';
import { closeRedis, createRedis, parseRecord, reclaimDedupe, topology, type Redis, type Shard } from '@im/redis';
import { createQueue, startBatchWorker, type StageWorker } from '@im/worker-kit';
import { silentLog } from '@im/worker-kit/testing';
import { TEST_TOKEN, testServers, uniqueName } from '../support/env';
import { waitFor } from '../support/wait';

const message = (n: number, clientMsgId: string | null = null): AcceptedMessage => ({
  message_id: String(7_000_000 + n),
  seq: n,
  sender_id: '1',
  receiver_id: '2',
  group_id: null,
  content: `held ${n}`,
  message_type: 'text',
  created_at: 1_700_000_000_000 + n,
  client_msg_id: clientMsgId,
});

/**
 * What a Redis failover to a replica that had not received a shard's newest writes leaves a
 * worker: jobs it holds (waiting for their admission ticket, or running) that the new server does
 * not have, and dedupe records of their sends that are gone. The loss is made here as the failover
 * makes it, by deleting those keys on a real Redis while a real worker holds the job.
 */
describe('after a failover lost what a worker holds', () => {
  let config: Config;
  let redis: Redis;
  let shard: Shard;
  const workers: StageWorker[] = [];

  before(async () => {
    const { redisUrl, mysqlUrl } = testServers();
    // Ordered (the default); a ticket gap is waited for 21 s, longer than this test: a job runs only when its turn comes.
    config = loadConfig({ env: { REDIS_URL: redisUrl, MYSQL_URL: mysqlUrl, IM_API_TOKENS: TEST_TOKEN, IM_QUEUE_PREFIX: `{${uniqueName('imt')}}`, IM_MESSAGE_SERVICE_REQUEST_TIMEOUT_MS: '20000' } });
    assert.equal(config.queue.ordered, true);
    redis = createRedis(config.queue, 'worker', 'im-test-held');
    shard = topology(config.queue).shard(0);
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.close(5000)));
    await closeRedis(redis);
  });

  it('an ordered worker that loses its lease adds back a held job the server lost, and runs it at its turn', async () => {
    const ran: JobPayloads['im.persist'][] = [];
    workers.push(
      startBatchWorker({
        queue: 'im.persist',
        shard,
        sequenced: true,
        handler: async (items) => void ran.push(...items.map((i) => i.payload)),
        deps: {},
        connection: redis,
        config,
        log: silentLog,
        metrics: createMetrics('worker-persist'),
      }),
    );
    // Ticket 1 was issued and has not come: the job of ticket 2 is held for it.
    await redis.set(shard.keys.ticket, '0');
    const queue = createQueue('im.persist', redis, config, silentLog, shard);
    const payload: JobPayloads['im.persist'] = { messages: [message(2)], ticket: 2 };
    await waitFor('the consumer holds the lease', async () => (await redis.get(shard.keys.consumer('im.persist'))) !== null, 10_000);
    await queue.add('persist', payload, { jobId: 'b-held' });
    await waitFor('the job fetched and held', async () => (await redis.lrange(shard.queueKey('im.persist', 'active'), 0, -1)).includes('b-held'), 10_000);

    // The failover: the new server has neither the job nor the consumer's lease.
    await redis.del(shard.queueKey('im.persist', 'b-held'), shard.queueKey('im.persist', 'b-held:lock'), shard.keys.consumer('im.persist'));
    await redis.lrem(shard.queueKey('im.persist', 'active'), 0, 'b-held');
    assert.equal(await queue.getJob('b-held'), undefined);

    // The renewal finds the lease gone (within a third of its 10 s) and gives the held job back.
    const back = await waitFor('the held job back in Redis', async () => (await queue.getJob('b-held')) ?? undefined, 15_000);
    assert.deepEqual(back.data, payload);
    assert.deepEqual(ran, [], 'not run before its turn');
    await redis.sadd(shard.keys.voidTickets, '1');
    await waitFor('the job run', () => ran.length > 0, 15_000);
    assert.deepEqual(ran, [payload]);
    await queue.close();
  });

  it('claims client_msg_ids again before storing: a lost record is written back pending on the job, a record of another message supersedes', async () => {
    const conversation = 's:1:2';
    const sent = (n: number, cid: string | null) => ({ ...message(n, cid), job_id: `b${n}`, conversation });
    const cid = (tag: string) => `${uniqueName('c')}-${tag}`;
    const [lost, own, taken, none] = [cid('lost'), cid('own'), cid('taken'), null];
    // A record of the message itself (the normal case), and one of a repeat admitted anew.
    await redis.set(shard.keys.dedupe('1', own), `A|${message(11).message_id}|11|${message(11).created_at}|${conversation}`);
    await redis.set(shard.keys.dedupe('1', taken), `P|b99|${message(99).message_id}|99|${message(99).created_at}|${Date.now()}|${conversation}`);

    const superseded = await reclaimDedupe(redis, shard, [sent(10, lost), sent(11, own), sent(12, taken), sent(13, none)], 1_800_000_000_000);
    assert.deepEqual([...superseded], [message(12).message_id]);
    assert.deepEqual(parseRecord((await redis.get(shard.keys.dedupe('1', lost)))!), {
      state: 'P',
      job_id: 'b10',
      message_id: message(10).message_id,
      seq: 10,
      timestamp: message(10).created_at,
      written: 1_800_000_000_000,
      conversation,
    });
    assert.ok((await redis.ttl(shard.keys.dedupe('1', lost))) > 86_000, 'kept as long as admission keeps one');
    assert.equal(await redis.get(shard.keys.dedupe('1', own)), `A|${message(11).message_id}|11|${message(11).created_at}|${conversation}`, 'untouched');
    assert.match((await redis.get(shard.keys.dedupe('1', taken)))!, /^P\|b99\|/, 'the repeat keeps its record');

    // Run again (the round retried): the same answer, nothing changed.
    assert.deepEqual([...(await reclaimDedupe(redis, shard, [sent(10, lost), sent(12, taken)]))], [message(12).message_id]);
  });
});
