import { devicesRepository, messagesRepository, offlineRepository, type OfflineRow } from '@im/db';
import { presence, publisher, recalledAmong, unackedTracker } from '@im/redis';
import { backlogSampler, createQueue, every, MicroBatcher, runWorker, startBatchWorker, type TypedQueue } from '@im/worker-kit';
import { handleDeliver, type DeliverDeps } from './deliver.handler';
import { redeliverDue, redeliveredPushes } from './redelivery';
import { pushHandoff } from './push-handoff';

// Routes each delivery: PUBLISH to online receivers, offline rows for the rest; and once a second,
// stores offline what was published but never acknowledged (redelivery.ts).
await runWorker('worker-delivery', ({ config, log, metrics, redis, pool, shards, topology }) => {
  const offline = offlineRepository(pool);
  const devices = devicesRepository(pool);
  const messages = messagesRepository(pool);
  const deliverQueues = shards.map((shard) => createQueue('im.deliver', redis, config, log, shard));
  const unacked = unackedTracker(redis, config.message_limits.ack_timeout_s, config.queue.prefix);
  const publish = publisher(redis, config.queue.pubsub);

  // Offline rows of concurrent rounds and of redelivery share one INSERT: up to 500 rows per statement.
  const offlineInserts = new MicroBatcher<OfflineRow, void>(
    async (rows) => {
      await offline.insertMany(rows, Date.now());
      return rows.map(() => undefined);
    },
    { spanName: 'offline rows insert', maxItems: 500, maxWaitMs: config.queue.batch_wait_ms, maxInFlight: Math.max(1, config.mysql.pool_size - 1) },
  );
  const storeOffline = (rows: readonly OfflineRow[]) => offlineInserts.addMany(rows).then(() => undefined);
  const backlog = backlogSampler({
    queues: deliverQueues,
    count: (c) => c.waiting,
    bound: config.queue.queue_size + 1,
    log,
    message: 'delivery backlog changed; over queue_size deliveries go straight to offline',
  });

  // push.enabled: offline deliveries become im.push jobs of their conversation's shard (worker-push).
  const pushQueues = new Map<number, TypedQueue<'im.push'>>();
  const pushQueue = (index: number) => {
    let q = pushQueues.get(index);
    if (!q) pushQueues.set(index, (q = createQueue('im.push', redis, config, log, topology.shard(index))));
    return q;
  };
  const push = config.push.enabled ? pushHandoff({ topology, queue: pushQueue, timeoutMs: 2000 }) : async () => {};

  const deps: DeliverDeps = {
    presence: presence(redis),
    devices: (userIds) => devices.ofUsers(userIds),
    publish: (pairs) => publish.publishMany(pairs),
    recalled: (ids) => recalledAmong(redis, ids),
    unacked: { track: (items) => unacked.track(items, Date.now()), done: (items) => unacked.done(items) },
    storeOffline,
    push,
    atBacklogBound: backlog.atBound,
    publishAttempts: 3,
    metrics,
    now: Date.now,
  };
  const workers = shards.map((shard) => startBatchWorker({ queue: 'im.deliver', shard, handler: handleDeliver, deps, connection: redis, config, log, metrics, maxJobs: 100 }));
  const stopRedelivery = every(
    1000,
    async () => void (await redeliverDue({ unacked, storeOffline, ...(config.push.enabled ? { push: redeliveredPushes({ messages: (ids) => messages.findMany(ids), push }) } : {}), metrics, log, now: Date.now })),
    (err) => {
      metrics.errors.inc({ component: 'redelivery', kind: 'UNAVAILABLE' });
      log.warn({ err }, 'redelivery pass failed; it is retried in 1 s');
    },
  );

  return {
    workers,
    loops: [backlog.stop, stopRedelivery],
    flush: [() => offlineInserts.drain()],
    queues: [...deliverQueues, { close: () => Promise.all([...pushQueues.values()].map((q) => q.close())).then(() => undefined) }],
    started: { concurrency: config.queue.concurrency, pubsub: config.queue.pubsub, push: config.push.enabled },
  };
});
