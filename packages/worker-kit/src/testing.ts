import type { Job } from 'bullmq';
import type { QueueName, JobPayloads } from '@im/contracts';
import { createLogger, type Logger } from '@im/logger';
import type { BatchItem } from './batch-worker';
import type { JobContext } from './worker';

/**
 * Plain fakes for handler unit tests: a handler is a function of (payloads, deps), so a test
 * builds its deps from plain objects and calls it; nothing here touches Redis or MySQL.
 */

/** A logger that writes nothing. */
export const silentLog: Logger = createLogger('test', 'silent');

/** A job as handlers see it: an id and its payload (handlers read nothing else). */
export function fakeJob(id: string, data: unknown): Job {
  return { id, data, attemptsMade: 0, attemptsStarted: 1, stalledCounter: 0 } as unknown as Job;
}

/** One item of a round, as the batch worker hands it to a handler (redone: a retry, or back after a stall). */
export function batchItem<Q extends QueueName>(id: string, payload: JobPayloads[Q], attempt = 1, redone = attempt > 1): BatchItem<Q> {
  return { payload, attempt, redone, job: fakeJob(id, payload) };
}

/** The context of a single-job handler. */
export function jobContext<D>(deps: D, id = '1', attempt = 1): JobContext<D> {
  return { deps, log: silentLog, attempt, job: fakeJob(id, undefined) };
}

/** A queue that records what is added to it. */
export function recordingQueue() {
  const added: { name: string; data: any; opts?: { jobId?: string } }[] = [];
  return {
    added,
    async add(name: string, data: unknown, opts?: { jobId?: string }) {
      added.push({ name, data, opts });
    },
    async addBulk(jobs: readonly { name: string; data: unknown; opts?: { jobId?: string } }[]) {
      added.push(...jobs);
    },
  };
}
