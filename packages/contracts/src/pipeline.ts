import { z } from 'zod';
import { ID_PATTERN } from './ids';
import { acceptedGroupSchema, acceptedMessageSchema, type AcceptedGroup, type AcceptedMessage } from './messages';
import { contentDigest, pushJobSchema, type PushDevice, type PushJob } from './push';
import { hookJobSchema, type HookJob } from './hooks';

/**
 * Queue names contain no ":" (BullMQ refuses it); they share the configured prefix, whose hash tag
 * keeps a shard's keys in one Redis Cluster slot.
 */
export const QUEUES = {
  persist: 'im.persist',
  fanout: 'im.fanout',
  deliver: 'im.deliver',
  cleaner: 'im.cleaner',
  push: 'im.push',
  hook: 'im.hook',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * The pipeline, stage by stage: the process of each role, what it consumes and what it produces
 * (README's diagram and docs/architecture.md follow this table).
 */
export const STAGES = [
  { role: 'ingest-api', consumes: 'HTTP and gRPC', produces: ['im.persist'] },
  { role: 'worker-persist', consumes: 'im.persist', produces: ['message_history', 'im.deliver', 'im.fanout'] },
  { role: 'worker-fanout', consumes: 'im.fanout', produces: ['im.deliver'] },
  { role: 'worker-delivery', consumes: 'im.deliver', produces: ['Pub/Sub', 'offline rows', 'offline rows of unacknowledged publishes (redelivery)'] },
  { role: 'worker-cleaner', consumes: 'im.cleaner', produces: ['deleted offline rows', 'history partitions'] },
  { role: 'worker-push', consumes: 'im.push and im.hook', produces: ['pushes (FCM, APNs, webhook)', 'delayed im.push jobs (collapse windows)', 'after_send and after_recall events'] },
] as const;

/** Every role of the fleet, in pipeline order. */
export const ROLES = STAGES.map((s) => s.role);
export type Role = (typeof STAGES)[number]['role'];

/** The one job name each queue carries. */
export const JOB_NAMES = { 'im.persist': 'persist', 'im.fanout': 'fanout', 'im.deliver': 'deliver', 'im.cleaner': 'sweep', 'im.push': 'push', 'im.hook': 'event' } as const satisfies Record<QueueName, string>;

/**
 * Job ids of the pipeline: each derived from what the job carries, so a stage that retries adds
 * no job twice (BullMQ ignores an add whose id exists).
 */
export const jobIds = {
  /** A persist job: an admitted micro-batch, named by its first message id. */
  persist: (firstMessageId: string) => `b${firstMessageId}`,
  /** The delivery job of a persist job's single-chat messages. */
  deliverOfPersist: (persistJobId: string) => `p${persistJobId}`,
  /** The fan-out job of a group message. */
  fanout: (messageId: string) => `g${messageId}`,
  /** Delivery chunk n (0, 1, ...) of a group message's members. */
  fanoutChunk: (messageId: string, n: number) => `f${messageId}-${n}`,
  /** Offline deliveries handed to push: named by their content (message ids and devices), so a retried delivery adds no second job. */
  pushDeliveries: (items: readonly { message_id: string; devices: readonly PushDevice[] }[]) =>
    `n${contentDigest(items.flatMap((i) => i.devices.map((d) => `${i.message_id}/${d.user_id}/${d.device_id}`)))}`,
  /** The after_send event of a persist job's messages. */
  afterSend: (persistJobId: string) => `e${persistJobId}`,
  /** The after_recall event of a message. */
  afterRecall: (messageId: string) => `r${messageId}`,
  /** The job that sends a device's collapse window once it closed. */
  pushFlush: (d: PushDevice & { window: string }) => `w${contentDigest([d.user_id, d.device_id, d.window])}`,
} as const;

/**
 * With tracing on (OTEL_*, @im/telemetry): the W3C traceparent of each traced message of the job,
 * by message id, so each hop joins its message's trace. A job carries messages of many traces, so
 * the context travels per message. Absent with tracing off; a malformed one is ignored.
 */
export type TraceCarriers = Record<string, string>;

/** Messages accepted by ingest, many per job; persisted as one multi-row insert. */
export interface PersistJob {
  messages: AcceptedMessage[];
  /** queue.ordered: the shard's admission ticket of the batch; jobs are handed on in ticket order. */
  ticket?: number;
  trace?: TraceCarriers;
}

/** Deliveries: each message with the users to route it to (one for single chat, a chunk of members for a group). */
export interface DeliverJob {
  items: { message: AcceptedMessage; receivers: string[] }[];
  trace?: TraceCarriers;
}

/** A persisted group message, to be expanded into member chunks. */
export interface FanoutJob {
  message: AcceptedGroup;
  trace?: TraceCarriers;
}

export interface CleanerJob {
  task: 'sweep';
}

export interface JobPayloads {
  'im.persist': PersistJob;
  'im.fanout': FanoutJob;
  'im.deliver': DeliverJob;
  'im.cleaner': CleanerJob;
  'im.push': PushJob;
  'im.hook': HookJob;
}

const id = z.string().regex(ID_PATTERN);
/** Trace context never makes a job invalid: one that does not parse is dropped. */
const traceCarriers = z.record(z.string(), z.string()).optional().catch(undefined);

/** One schema per payload; a worker refuses (without retrying) a job that does not match. */
export const jobSchemas: { [Q in QueueName]: z.ZodType<JobPayloads[Q]> } = {
  'im.persist': z.object({ messages: z.array(acceptedMessageSchema).min(1), ticket: z.number().int().positive().optional(), trace: traceCarriers }),
  'im.fanout': z.object({ message: acceptedGroupSchema, trace: traceCarriers }),
  'im.deliver': z.object({
    items: z.array(z.object({ message: acceptedMessageSchema, receivers: z.array(id).min(1) })).min(1),
    trace: traceCarriers,
  }),
  'im.cleaner': z.object({ task: z.literal('sweep') }),
  'im.push': pushJobSchema,
  'im.hook': hookJobSchema,
};

/**
 * Attempts of a pipeline job: without end in practice. Only an error about the job itself (an
 * invalid payload, data the database refuses) ends it in the failed set, at once; every other
 * failure retries for as long as it lasts (worker-kit's failure policy).
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
