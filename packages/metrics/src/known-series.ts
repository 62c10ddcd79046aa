import { QUEUES } from '@im/contracts';
import type { Metrics } from './index';

/** The queue each worker role consumes: its jobs' errors are counted under that component. */
const CONSUMES: Record<string, string> = {
  'worker-persist': QUEUES.persist,
  'worker-fanout': QUEUES.fanout,
  'worker-delivery': QUEUES.deliver,
  'worker-cleaner': QUEUES.cleaner,
  'worker-push': QUEUES.push,
};

export const PUSH_PROVIDERS = ['fcm', 'apns', 'webhook'] as const;
export const PUSH_RESULTS = ['sent', 'retried', 'bad_token', 'refused', 'expired'] as const;

/** Kinds the worker wrapper counts per job (packages/worker-kit/src/worker.ts). */
const JOB_ERROR_KINDS = ['job_failed', 'invalid_job', 'UNAVAILABLE', 'INTERNAL', 'worker'];
/** Codes counted at the HTTP and gRPC boundaries (5xx only). */
const SERVER_ERROR_KINDS = ['UNAVAILABLE', 'INTERNAL'];

/**
 * Creates, at 0, every series of the labelled counters that a role can write, so that each exists
 * from the first scrape: rate() and increase() need two samples, and an alert on
 * im_errors_total{kind="job_failed"} would otherwise miss the first failure after a start.
 */
export function zeroKnownSeries(m: Metrics, role: string): void {
  if (role === 'ingest-api') {
    for (const kind of ['single', 'group']) for (const result of ['accepted', 'rejected', 'duplicate']) m.messagesIngested.inc({ kind, result }, 0);
    for (const status of ['delivered', 'read', 'rejected']) m.acks.inc({ status }, 0);
    for (const component of ['http', 'grpc']) for (const kind of SERVER_ERROR_KINDS) m.errors.inc({ component, kind }, 0);
    // A send answered 503 whose enqueue's outcome Redis did not tell in time (send.service.ts).
    m.errors.inc({ component: 'ingest', kind: 'outcome_unknown' }, 0);
    for (const source of ['cache', 'mysql']) m.historyReads.inc({ source }, 0);
    m.streamRefusals.inc(0);
    for (const action of ['accept', 'refuse', 'replace', 'fail_open', 'fail_closed']) m.hookMessages.inc({ hook: 'before_send', action }, 0);
    for (const result of ['ok', 'timeout', 'error']) m.hookDuration.zero({ hook: 'before_send', result });
  }
  const queue = CONSUMES[role];
  if (queue) for (const kind of JOB_ERROR_KINDS) m.errors.inc({ component: queue, kind }, 0);
  // A seq another message already held, stored under a new one (worker-persist's message store);
  // a first attempt whose send a repeat superseded after a failover (not stored).
  if (role === 'worker-persist') for (const kind of ['seq_conflict', 'superseded']) m.errors.inc({ component: QUEUES.persist, kind }, 0);
  if (role === 'worker-delivery') {
    for (const route of ['online', 'offline', 'fallback', 'redelivered']) m.deliveries.inc({ route }, 0);
    m.errors.inc({ component: 'redelivery', kind: 'UNAVAILABLE' }, 0);
    // Offline deliveries whose push job could not be queued (they stay stored offline).
    m.errors.inc({ component: 'push_enqueue', kind: 'UNAVAILABLE' }, 0);
  }
  if (role === 'worker-push') {
    for (const provider of PUSH_PROVIDERS) for (const result of PUSH_RESULTS) m.pushes.inc({ provider, result }, 0);
    for (const provider of PUSH_PROVIDERS) m.pushDuration.zero({ provider });
    for (const result of ['windowed', 'muted', 'no_token']) m.pushDeliveries.inc({ result }, 0);
    // worker-push also consumes im.hook (the outbound role): its jobs' errors and its events.
    for (const kind of JOB_ERROR_KINDS) m.errors.inc({ component: QUEUES.hook, kind }, 0);
    for (const hook of ['after_send', 'after_recall']) {
      m.hookMessages.inc({ hook, action: 'sent' }, 0);
      for (const result of ['ok', 'timeout', 'error']) m.hookDuration.zero({ hook, result });
    }
  }
  if (role === 'worker-cleaner') for (const reason of ['ttl', 'cap']) m.cleanerDeleted.inc({ reason }, 0);
}
