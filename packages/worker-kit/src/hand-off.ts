import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '@im/config';
import type { Logger } from '@im/logger';
import { waitForReplicas, type Redis, type Shard } from '@im/redis';

/** Adds the jobs a stage hands on to the next (idempotent: their ids are derived from the work). */
export type HandOff = (add: () => Promise<unknown>) => Promise<void>;

/**
 * How a stage hands its work on. Without queue.min_replicas: the adds, once. With it, the stage's
 * own job is done only once the jobs it added are on that many replicas too: a primary that dies
 * while its replica lags loses the jobs a worker added on it and the worker's completion of its
 * own job, but if that job itself was never replicated (ingest accepted it because a worker held
 * it already), nothing would bring the hand-off back. So the adds are made again, on whatever
 * primary serves the shard after a failover, until `WAIT` says they are replicated; the job keeps
 * its lock meanwhile.
 */
export function handOff(o: { connection: Redis; config: Config; shard: Shard; log: Logger }): HandOff {
  const { min_replicas: minReplicas, replica_timeout_ms: timeoutMs, max_backoff_ms: cap } = o.config.queue;
  if (minReplicas === 0) return async (add) => void (await add());
  return async (add) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await add();
        if ((await waitForReplicas(o.connection, o.shard.queueKey('im.deliver', 'meta'), minReplicas, timeoutMs)) >= minReplicas) return;
        if (attempt === 1) o.log.warn({ minReplicas }, 'the jobs handed on are not on enough replicas yet; adding them again until they are');
      } catch (err) {
        if (attempt === 1) o.log.warn({ err }, 'handing on failed; trying again until it is replicated');
      }
      await sleep(Math.min(100 * attempt, cap));
    }
  };
}
