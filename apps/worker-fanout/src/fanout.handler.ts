import { JOB_NAMES, jobIds } from '@im/contracts';
import { produceHop } from '@im/telemetry';
import type { HandOff, Handler, TypedQueue } from '@im/worker-kit';

export interface FanoutDeps {
  /** Current members of a group (cached in Redis, invalidated on every change). */
  members(groupId: string): Promise<string[]>;
  deliverQueue: TypedQueue<'im.deliver'>;
  /** Runs the adds, and with queue.min_replicas until they are replicated (worker-kit hand-off.ts). */
  handOff: HandOff;
  /** Members per delivery job. */
  chunkSize: number;
}

/**
 * Expands a persisted group message into delivery jobs of `chunkSize` members each (the sender
 * too: delivery sends it to the sender's other devices, never back to the one it came from). Chunk job ids are derived from the message id and the chunk's position, so a
 * retried fan-out does not queue a chunk that is still waiting; each chunk retries on its own.
 */
export const handleFanout: Handler<'im.fanout', FanoutDeps> = async ({ message }, { deps, log, trace }) => {
  const groupId = message.group_id;
  const receivers = await deps.members(groupId);
  // With tracing on: one producer span for the message's chunks, whose context each chunk carries.
  const hop = produceHop(deps.deliverQueue.name, receivers.length > 0 ? [message.message_id] : [], trace?.of);
  const jobs: Parameters<FanoutDeps['deliverQueue']['addBulk']>[0][number][] = [];
  for (let i = 0; i < receivers.length; i += deps.chunkSize) {
    jobs.push({
      name: JOB_NAMES['im.deliver'],
      data: { items: [{ message, receivers: receivers.slice(i, i + deps.chunkSize) }], ...(hop.carriers ? { trace: hop.carriers } : {}) },
      opts: { jobId: jobIds.fanoutChunk(message.message_id, i / deps.chunkSize) },
    });
  }
  // addBulk is one MULTI: all chunks are queued, or none.
  try {
    if (jobs.length > 0) await deps.handOff(() => deps.deliverQueue.addBulk(jobs));
  } catch (err) {
    hop.end(err);
    throw err;
  }
  hop.end();
  log.debug({ message_id: message.message_id, group_id: groupId, receivers: receivers.length, chunks: jobs.length }, 'fanned out');
};
