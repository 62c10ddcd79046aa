import type { Config } from '@im/config';
import { JOB_NAMES, type AcceptedMessage } from '@im/contracts';
import { AppError } from '@im/errors';
import type { Logger } from '@im/logger';
import { topology, waitForReplicas, type Redis, type Shard, type Topology } from '@im/redis';
import { jobCounts, shardQueues, type TypedQueue } from '@im/worker-kit';

/**
 * Adds an admitted batch to its shard's persist queue as one job. With queue.min_replicas, the add
 * counts only once that many Redis replicas hold it (WAIT, on `redis`, the queues' connection); a
 * job not replicated in time is taken back if no worker holds it yet, and the send is refused.
 */
export function persistEnqueuer(o: { queues: readonly TypedQueue<'im.persist'>[]; redis: Redis; config: Config }) {
  const { min_replicas: minReplicas, replica_timeout_ms: timeoutMs } = o.config.queue;
  return async (shard: Shard, jobId: string, batch: AcceptedMessage[]): Promise<void> => {
    const queue = o.queues[shard.index]!;
    await queue.add(JOB_NAMES['im.persist'], { messages: batch }, { jobId });
    if (minReplicas === 0) return;
    // The shard's admission state lives in the same slot as its queue: the replicas that hold the
    // job hold the seq counters and dedupe records written before it.
    const held = await waitForReplicas(o.redis, shard.queueKey('im.persist', 'meta'), minReplicas, timeoutMs);
    if (held >= minReplicas) return;
    // Not on enough replicas in time: take the job back if no worker holds it yet (then nothing
    // was accepted). A job a worker already holds is being persisted to MySQL: accepted.
    if ((await queue.remove(jobId)) === 1) {
      throw new AppError('UNAVAILABLE', `the send reached ${held} of queue.min_replicas (${minReplicas}) Redis replicas within ${timeoutMs} ms; nothing was accepted, retry`);
    }
  };
}

/**
 * A conversation's shard follows queue.shards, and with it the keys of its seq counter. Changing
 * the count while persist jobs wait would let a counter restart from MySQL below seqs still
 * queued; so ingest starts with a new count only once every persist queue is done.
 */
export async function guardShardChange(redis: Redis, config: Config, log: Logger, topo: Topology): Promise<void> {
  const key = topo.recordKey;
  const previous = Number(await redis.get(key)) || 0;
  const shards = topo.shards;
  if (previous > 0 && previous !== shards) {
    const queues = shardQueues('im.persist', redis, config, log, topology({ prefix: topo.prefix, shards: Math.max(previous, shards) }).all);
    try {
      const backlog = (await Promise.all(queues.map((q) => jobCounts(q.queue)))).reduce((sum, c) => sum + c.backlog + c.failed, 0);
      if (backlog > 0) {
        throw new Error(
          `queue.shards changed from ${previous} to ${shards} while ${backlog} persist job(s) are not done; ` +
            `start ingest with queue.shards = ${previous}, stop it when the persist queues are empty (im-message queues), then change it`,
        );
      }
    } finally {
      await Promise.all(queues.map((q) => q.queue.close()));
    }
    log.warn({ previous, shards }, 'queue.shards changed; conversations move to their new shard');
  }
  await redis.set(key, String(shards));
}
