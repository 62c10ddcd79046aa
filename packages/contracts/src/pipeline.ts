import { z } from 'zod';
import { storedMessageSchema, type StoredMessage } from './messages';

/**
 * The pipeline, stage by stage (README's diagram follows this table):
 *
 * | stage           | consumes   | produces              |
 * |-----------------|------------|-----------------------|
 * | ingest-api      | HTTP       | im.persist            |
 * | worker-persist  | im.persist | im.deliver, im.fanout |
 * | worker-fanout   | im.fanout  | im.deliver            |
 * | worker-delivery | im.deliver | Pub/Sub, offline rows |
 * | worker-cleaner  | im.cleaner | (deletes, redelivery) |
 *
 * Queue names contain no ":" (BullMQ refuses it); they share the configured prefix,
 * whose hash tag keeps every key of the fleet in one Redis Cluster slot.
 */
export const QUEUES = {
  persist: 'im.persist',
  fanout: 'im.fanout',
  deliver: 'im.deliver',
  cleaner: 'im.cleaner',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Messages accepted by ingest, many per job; persisted as one multi-row insert. */
export interface PersistJob {
  messages: StoredMessage[];
}

/** Deliveries: each message with the users to route it to (one for single chat, a chunk of members for a group). */
export interface DeliverJob {
  items: { message: StoredMessage; receivers: string[] }[];
}

/** A persisted group message, to be expanded into member chunks. */
export interface FanoutJob {
  message: StoredMessage;
}

export interface CleanerJob {
  task: 'sweep';
}

export interface JobPayloads {
  'im.persist': PersistJob;
  'im.fanout': FanoutJob;
  'im.deliver': DeliverJob;
  'im.cleaner': CleanerJob;
}

const id = z.string().regex(/^[1-9]\d{0,18}$/);

/** One schema per payload; a worker refuses (without retrying) a job that does not match. */
export const jobSchemas: { [Q in QueueName]: z.ZodType<JobPayloads[Q]> } = {
  'im.persist': z.object({ messages: z.array(storedMessageSchema).min(1) }),
  'im.fanout': z.object({ message: storedMessageSchema }),
  'im.deliver': z.object({
    items: z.array(z.object({ message: storedMessageSchema, receivers: z.array(id).min(1) })).min(1),
  }),
  'im.cleaner': z.object({ task: z.literal('sweep') }),
};

/**
 * Attempts of a pipeline job: without end in practice. A job that fails because Redis or MySQL is
 * away retries for as long as the outage lasts; one that keeps failing for another reason ends in
 * the failed set after queue.attempts such failures (worker-kit counts them), and one whose
 * payload is invalid ends there at once.
 */
export const UNLIMITED_ATTEMPTS = 2_147_483_647;

/** The custom backoff of pipeline jobs: exponential from queue.backoff_ms, capped at queue.max_backoff_ms (worker-kit). */
export const CAPPED_BACKOFF = 'capped';

/**
 * Job options of the pipeline's queues: retried with a capped backoff, completed jobs removed,
 * failed jobs kept without bound (they hold accepted messages), error stacks of the last few
 * attempts only (a job retried through a long outage must not grow in Redis).
 */
export function defaultJobOptions(backoffMs: number) {
  return {
    attempts: UNLIMITED_ATTEMPTS,
    backoff: { type: CAPPED_BACKOFF, delay: backoffMs },
    removeOnComplete: true,
    removeOnFail: false,
    stackTraceLimit: 3,
  };
}
