import type { Config } from '@im/config';
import { JOB_NAMES, jobIds } from '@im/contracts';
import { conversationsRepository, createPool, cursorsRepository, devicesRepository, groupsRepository, messagesRepository, offlineRepository, pushRepository, recallsRepository, usersRepository, type Recall } from '@im/db';
import { AppError } from '@im/errors';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import { closeRedis, createRedis, groupMembersCache, keys, publisher, unackedTracker, MessageIdGenerator, NodeLease, presence, waitForReady, hotHistory } from '@im/redis';
import { backlogSampler, createQueue, dependencyChecks, joinDeployment, openShards, ProcessHealth, readDeployment, readyQueue, type DeploymentRecord, type ShutdownStep, type TypedQueue } from '@im/worker-kit';
import { buildApp } from './app';
import { coalesce } from './read/coalesce';
import { admissionLedger } from './send/admission';
import { persistEnqueuer, persistTakeBack } from './send/enqueue';
import { KnownIds } from './send/known-ids';
import { sendService } from './send/send.service';
import { createServices } from './services';
import { beforeSendHook } from './send/before-send';

/**
 * The ingest process without its listener: connections, repositories, services and the HTTP app.
 * main.ts listens; tests call this and send requests in process against real Redis and MySQL.
 */
export interface IngestOptions {
  /**
   * A shard refused admission because the deployment's generation moved on (a reshard finished):
   * this process's layout is stale and it should stop, to start again on the new one (main.ts, on
   * the process runner, which also watches the generation). Tests that build ingest in process
   * leave it out: the change is then only logged.
   */
  onDeploymentChange?: (record: DeploymentRecord) => void;
  /**
   * The process's readiness (the runner's): ingest adds its condition, the message-id node lease
   * held. Left out (tests in process), ingest gets one of its own, serving once built.
   */
  health?: ProcessHealth;
  /** /metrics and /health/dependencies on the API port too (default); false when the process has an ops port of its own. */
  opsRoutes?: boolean;
}

export async function createIngest(config: Config, log: Logger, metrics: Metrics, options: IngestOptions = {}) {
  const timing = sendTiming(config);
  const redis = createRedis(config.queue, 'producer', 'im-ingest-api', (err) => log.warn({ err: err.message }, 'redis connection error'), { commandTimeoutMs: timing.commandMs });
  const pool = createPool({ url: config.mysql.url, size: config.mysql.pool_size });
  await waitForReady(redis, 60_000);

  // The persist queues, one per shard. With queue.min_replicas, on a connection of their own: WAIT
  // blocks the connection it runs on, and admission must not wait behind it.
  const minReplicas = config.queue.min_replicas;
  const enqueueRedis =
    minReplicas > 0
      ? createRedis(config.queue, 'producer', 'im-ingest-enqueue', (err) => log.warn({ err: err.message }, 'redis connection error'), { commandTimeoutMs: timing.commandMs + config.queue.replica_timeout_ms })
      : redis;
  // BullMQ reads the server's version once, when a queue first uses its connection, and keeps a
  // failure for good: a connection that is not ready yet (a cluster still loading its slots) would
  // fail every add of the process. So the queues get their connection once it is ready.
  if (enqueueRedis !== redis) await waitForReady(enqueueRedis, 60_000);
  const deployment = await joinDeployment(redis, config, log).catch(async (err) => {
    await Promise.all([pool.end(), closeRedis(redis), ...(enqueueRedis !== redis ? [closeRedis(enqueueRedis)] : [])]);
    throw err;
  });
  const topo = deployment.topology;
  const generation = deployment.record.generation;
  // after_recall events (hooks.after_recall_url), per shard, made on first use.
  const hookQueues = new Map<number, TypedQueue<'im.hook'>>();
  const persistQueues = await Promise.all(topo.all.map((shard) => readyQueue('im.persist', enqueueRedis, config, log, shard)));
  const followDeployment = (record: DeploymentRecord) => {
    log.warn({ generation, now: record.generation, shards: record.shards }, 'the deployment was resharded: this process stops, to start again on the new layout');
    options.onDeploymentChange?.(record);
  };
  // A shard that refused admission: a reshard is under way (its generation is 0), finished (the
  // record says so; the watcher follows), or the shard lost its key (opened again).
  let checkingStale = false;
  const onStale = (shardGeneration: number) => {
    if (checkingStale) return;
    checkingStale = true;
    void (async () => {
      const record = await readDeployment(redis, config.queue.prefix);
      if (record && record.generation !== generation) followDeployment(record);
      else if (record?.state === 'active') await openShards(redis, topo, generation, false);
      else log.info({ shardGeneration }, 'the deployment is being resharded: sends are refused with 503 until it is done');
    })()
      .catch((err) => log.warn({ err }, 'could not read the deployment record'))
      .finally(() => (checkingStale = false));
  };

  const ids = new MessageIdGenerator(0);
  const lease = new NodeLease(redis, (node) => {
    ids.setNode(node);
    log.info({ node }, 'message-id node leased');
  });
  await lease.acquire();

  const ledger = admissionLedger(redis, config.rate_limit.per_sender_per_s, () => generation, config.queue.ordered);

  // Persist work not yet done (waiting, retrying, active), sampled once a second: at the bound,
  // sends get 503 instead of a longer queue, so Redis memory stays bounded through a MySQL outage.
  const backlog = backlogSampler({
    queues: persistQueues,
    count: (c) => c.backlog,
    bound: config.queue.max_persist_backlog,
    log,
    message: 'persist backlog changed; sends are refused with 503 while it is at the bound',
  });

  const users = usersRepository(pool);
  const messages = messagesRepository(pool);
  const recalls = recallsRepository(pool);
  const groups = groupsRepository(pool);
  const knownUsers = new KnownIds(users.existing);
  const knownGroups = new KnownIds(groups.existing);
  const members = groupMembersCache(redis, groups.members);
  const cursors = cursorsRepository(pool);
  const conversations = conversationsRepository(pool);
  const nextId = () => {
    try {
      lease.assertValid();
    } catch (err) {
      throw new AppError('UNAVAILABLE', 'message ids cannot be issued while Redis is unreachable; retry later', { reason: 'DEPENDENCY_UNAVAILABLE', cause: err });
    }
    return ids.next();
  };
  const send = sendService({
    nextId,
    ledger,
    users: knownUsers,
    groups: knownGroups,
    members,
    seqFloors: (conversations) => messages.seqFloors(conversations),
    enqueue: persistEnqueuer({ queues: persistQueues, redis: enqueueRedis, config }),
    takeBack: persistTakeBack(persistQueues),
    storedSends: (refs) => messages.findSent(refs),
    isQueued: async (shard, jobId) => (await persistQueues[shard.index]!.getJob(jobId)) !== undefined,
    wasStored: async (messageId) =>
      (await messages.findRefs([messageId])).length > 0 || (await recalls.among([messageId])).size > 0 || (await redis.exists(keys.recalled(messageId))) === 1,
    metrics,
    log,
    maxPending: config.message_service.max_pending_sends,
    overloaded: backlog.atBound,
    batch: { maxItems: config.queue.batch_size, maxWaitMs: config.queue.batch_wait_ms, ordered: config.queue.ordered },
    topology: topo,
    timing,
    onStale,
    ...(config.hooks.before_send_url
      ? {
          beforeSend: beforeSendHook({
            url: config.hooks.before_send_url,
            secret: config.hooks.secret,
            timeoutMs: config.hooks.before_send_timeout_ms,
            policy: config.hooks.before_send_policy,
            maxMessageLength: config.message_limits.max_message_length,
            metrics,
            log,
            batch: { maxItems: config.queue.batch_size, maxWaitMs: config.queue.batch_wait_ms },
          }),
        }
      : {}),
  });

  const services = createServices({
    send,
    users,
    knownUsers,
    groups,
    knownGroups,
    members,
    messages,
    recalls,
    offline: offlineRepository(pool),
    devices: devicesRepository(pool),
    push: pushRepository(pool),
    // Status lookups of concurrent reads (history, search, conversation lists) share one query.
    cursors: { ...cursors, get: coalesce(cursors.get, (p) => `${p.user_id}/${p.conversation}`) },
    conversations: { ...conversations, states: coalesce(conversations.states, (c) => c) },
    presence: presence(redis),
    hot: hotHistory(redis, { size: config.history_cache.messages, ttlS: config.history_cache.ttl_s, topology: topo }),
    unacked: unackedTracker(redis, config.message_limits.ack_timeout_s, config.queue.prefix),
    redis,
    publisher: publisher(redis, config.queue.pubsub),
    metrics,
    maxMessageLength: config.message_limits.max_message_length,
    nextEventId: () => nextId().id,
    deviceLimits: {
      maxPerUser: config.devices.max_per_user,
      newDeviceWindowDays: config.devices.new_device_window_days,
      newDeviceMaxMessages: config.devices.new_device_max_messages,
    },
    notifyPeer: config.receipts.notify_peer,
    ...(config.hooks.after_recall_url
      ? {
          afterRecall: async (recall: Recall) => {
            const shard = topo.of(recall.conversation);
            let q = hookQueues.get(shard.index);
            if (!q) hookQueues.set(shard.index, (q = createQueue('im.hook', redis, config, log, shard)));
            await q.add(JOB_NAMES['im.hook'], { event: 'after_recall', recall }, { jobId: jobIds.afterRecall(recall.message_id) });
          },
        }
      : {}),
  });

  let health = options.health;
  if (!health) {
    health = new ProcessHealth();
    health.dependOn(dependencyChecks(redis, pool));
    health.serving();
  }
  health.require('id_lease', () => lease.held);
  const app = buildApp({
    services,
    tokens: config.auth.api_tokens,
    metrics,
    log,
    health,
    opsRoutes: options.opsRoutes ?? true,
    bodyLimit: config.message_service.max_body_bytes,
  });

  // Stopping, in order, before the process closes MySQL and Redis (the runner does, after these).
  const stopSteps: ShutdownStep[] = [
    ['stop backlog sampling', async () => backlog.stop()],
    ['stop accepting requests', () => app.close()],
    ['flush queued sends', () => send.drain()],
    ['release id node', () => lease.release()],
    ['close queues', () => Promise.all([...persistQueues, ...hookQueues.values()].map((q) => q.close()))],
    ...(enqueueRedis !== redis ? [['close enqueue connection', () => closeRedis(enqueueRedis)] as const] : []),
  ];
  return {
    app,
    services,
    lease,
    topology: topo,
    redis,
    pool,
    generation,
    stopSteps,
    /** Every step, MySQL and Redis last: for tests that build ingest in process. */
    shutdownSteps: [...stopSteps, ['close mysql', () => pool.end()], ['close redis', () => closeRedis(redis)]] as ShutdownStep[],
  };
}

/**
 * How a send spends message_service.request_timeout_ms (T): each Redis command of ingest times
 * out after T/6; the enqueue takes at most two of them plus, with queue.min_replicas, the WAIT
 * (an add; when it or the WAIT failed, one more for taking the job back and looking for it, sent
 * together), and a third for looking the message up in history when the job vanished; so a send
 * must reach its enqueue by T/2 (less the WAIT), or it is answered 503 (nothing queued). Every send
 * is answered within T.
 */
export function sendTiming(config: Config): { commandMs: number; admitWithinMs: number; checkWithinMs: number } {
  const t = config.message_service.request_timeout_ms;
  const commandMs = Math.floor(t / 6);
  const enqueueMs = 3 * commandMs + (config.queue.min_replicas > 0 ? config.queue.replica_timeout_ms : 0);
  return { commandMs, admitWithinMs: t - enqueueMs, checkWithinMs: commandMs };
}
