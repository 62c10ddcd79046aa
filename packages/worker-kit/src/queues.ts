import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { defaultJobOptions, QUEUES, type JobPayloads, type QueueName } from '@im/contracts';
import type { Config } from '@im/config';
import type { Logger } from '@im/logger';
import type { Shard, Topology } from '@im/redis';

/** A queue whose `add` only takes its own payload type: queueing the wrong data is a compile error. */
export type TypedQueue<Q extends QueueName> = Queue<JobPayloads[Q], void, string>;

/**
 * A queue of the pipeline (of one shard: queue.shards) with its job options. Its connection errors
 * go to the log (the first of each 10 s): unheard, BullMQ would print them on stderr with the
 * failed command's arguments.
 */
export function createQueue<Q extends QueueName>(name: Q, connection: Redis, config: Config, log: Logger, shard: Shard): TypedQueue<Q> {
  const queue = new Queue<JobPayloads[Q], void, string>(name, {
    connection,
    prefix: shard.queuePrefix,
    defaultJobOptions: defaultJobOptions(config.queue.backoff_ms),
    streams: { events: { maxLen: 1000 } },
  });
  let lastReport = 0;
  queue.on('error', (err) => {
    const now = Date.now();
    if (now - lastReport < 10_000) return;
    lastReport = now;
    log.warn({ err, queue: name }, 'queue connection error');
  });
  return queue;
}

/**
 * A shard's queue once BullMQ's first look at the server succeeded: BullMQ reads the server's
 * version once per queue and keeps a failure for good, so on a connection with a command timeout a
 * slow first reply would break every later add of the process. Tried again with a new queue until
 * it answers (within timeoutMs).
 */
export async function readyQueue<Q extends QueueName>(name: Q, connection: Redis, config: Config, log: Logger, shard: Shard, timeoutMs = 60_000): Promise<TypedQueue<Q>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const queue = createQueue(name, connection, config, log, shard);
    try {
      await queue.waitUntilReady();
      return queue;
    } catch (err) {
      await queue.close().catch(() => {});
      if (Date.now() > deadline) throw err;
      log.warn({ err, queue: shard.label(name) }, 'the queue could not read the Redis server yet; trying again');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** The stages split into shards (the cleaner's queue is one for the fleet). */
export const SHARDED_STAGES = [QUEUES.persist, QUEUES.fanout, QUEUES.deliver, QUEUES.push, QUEUES.hook] as const;

/**
 * The stages a conversation's messages go through in seq order when queue.ordered is on: one
 * process at a time consumes each shard's queue. Pushes are not ordered (a push carries a count
 * and the newest message of its window), and one device's slow provider must not hold up others.
 */
export const ORDERED_STAGES: readonly QueueName[] = [QUEUES.persist, QUEUES.fanout, QUEUES.deliver];
export type ShardedStage = (typeof SHARDED_STAGES)[number];

/** One shard's queue of a stage, with the name people see (`im.persist`, `im.persist.s3`). */
export interface ShardQueue<Q extends QueueName = QueueName> {
  stage: Q;
  shard: number;
  label: string;
  queue: TypedQueue<Q>;
}

/** A stage's queue for each of the given shards. */
export function shardQueues<Q extends QueueName>(stage: Q, connection: Redis, config: Config, log: Logger, shards: readonly Shard[]): ShardQueue<Q>[] {
  return shards.map((shard) => ({ stage, shard: shard.index, label: shard.label(stage), queue: createQueue(stage, connection, config, log, shard) }));
}

/** Every queue of the pipeline, every shard (the cleaner's, on shard 0, too): for gauges, the dashboard and the CLI. */
export function pipelineQueues(connection: Redis, config: Config, log: Logger, topo: Topology): ShardQueue[] {
  const all: ShardQueue<QueueName>[] = [];
  for (const stage of SHARDED_STAGES) all.push(...(shardQueues(stage, connection, config, log, topo.all) as unknown as ShardQueue<QueueName>[]));
  all.push(...(shardQueues(QUEUES.cleaner, connection, config, log, [topo.shard(0)]) as unknown as ShardQueue<QueueName>[]));
  return all;
}

export const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

export type JobCounts = Record<(typeof JOB_STATES)[number], number> & {
  /** Work not yet done: waiting, active and delayed (a pipeline job is delayed only while it waits to retry). */
  backlog: number;
};

export async function jobCounts(queue: Queue): Promise<JobCounts> {
  const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children');
  const counts = {
    waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0),
    active: c.active ?? 0,
    delayed: c.delayed ?? 0,
    failed: c.failed ?? 0,
  };
  return { ...counts, backlog: counts.waiting + counts.active + counts.delayed };
}
