import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { zeroKnownSeries } from './known-series';

export type { Registry };

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The contract's metrics (CONTRACT.md section 7), names and labels exactly as written, with
 * prom-client's default process metrics. Each process creates one set and updates what applies to it.
 */
export function createMetrics(role: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry });
  const r = [registry];

  const metrics = {
    registry,
    messagesIngested: new Counter({
      name: 'im_messages_ingested_total',
      help: 'Messages offered to ingest, by kind (single/group) and result (accepted/rejected/duplicate).',
      labelNames: ['kind', 'result'] as const,
      registers: r,
    }),
    offlinePulls: new Counter({ name: 'im_offline_pulls_total', help: 'Offline message pulls served.', registers: r }),
    syncPages: new Counter({ name: 'im_sync_pages_total', help: 'Device sync pages served (the single-device offline pull counts in im_offline_pulls_total).', registers: r }),
    syncLag: new Histogram({
      name: 'im_sync_lag_seconds',
      help: "Per device: age of the oldest item of a sync page when served (how far behind the device was).",
      buckets: [1, 10, 60, 600, 3600, 21_600, 86_400, 604_800, 2_592_000],
      registers: r,
    }),
    devicesOnline: new Gauge({ name: 'im_devices_online', help: 'Devices online (with presence), sampled by worker-cleaner.', registers: r }),
    devicesRegistered: new Gauge({ name: 'im_devices_registered', help: 'Devices registered, sampled by worker-cleaner.', registers: r }),
    devicesForgotten: new Counter({ name: 'im_devices_forgotten_total', help: 'Devices forgotten by worker-cleaner after devices.inactive_days.', registers: r }),
    httpDuration: new Histogram({
      name: 'im_http_request_duration_seconds',
      help: 'HTTP response time by route, method and status.',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    grpcDuration: new Histogram({
      name: 'im_grpc_request_duration_seconds',
      help: 'gRPC response time by method and status code.',
      labelNames: ['method', 'code'] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    streamsOpen: new Gauge({
      name: 'im_grpc_streams_open',
      help: 'gRPC SendStream streams open (gateway links).',
      registers: r,
    }),
    streamRefusals: new Counter({
      name: 'im_stream_refusals_total',
      help: 'SendStream frames answered RESOURCE_EXHAUSTED because their stream held message_service.stream_max_in_flight sends.',
      registers: r,
    }),
    queueJobs: new Gauge({
      name: 'im_queue_jobs',
      help: 'Jobs per queue and state (sampled).',
      labelNames: ['queue', 'state'] as const,
      registers: r,
    }),
    jobDuration: new Histogram({
      name: 'im_job_duration_seconds',
      help: 'Time spent in one handler call, by queue: one job, or for persist and delivery one round of up to 100 jobs.',
      labelNames: ['queue'] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    messagesPersisted: new Counter({ name: 'im_messages_persisted_total', help: 'History rows written.', registers: r }),
    historyReads: new Counter({
      name: 'im_history_reads_total',
      help: 'First history pages by where they came from: cache (the hot-conversation cache in Redis) or mysql.',
      labelNames: ['source'] as const,
      registers: r,
    }),
    deliveries: new Counter({
      name: 'im_deliveries_total',
      help: 'Deliveries by routing outcome: online, offline, fallback (offline after a failed or unheard publish), redelivered.',
      labelNames: ['route'] as const,
      registers: r,
    }),
    deliveryLatency: new Histogram({
      name: 'im_message_delivery_latency_seconds',
      help: 'From ingest timestamp to publish (online) or offline commit, by route.',
      labelNames: ['route'] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    acks: new Counter({ name: 'im_acks_total', help: 'Acknowledgements by status (delivered, read, rejected).', labelNames: ['status'] as const, registers: r }),
    offlineMessages: new Gauge({ name: 'im_offline_messages', help: 'Offline rows now stored (sampled).', registers: r }),
    errors: new Counter({ name: 'im_errors_total', help: 'Errors by component and kind.', labelNames: ['component', 'kind'] as const, registers: r }),
    dependencyUp: new Gauge({
      name: 'im_dependency_up',
      help: 'Whether this process reaches a backing service (redis, mysql): 1 or 0, sampled every 5 s. Readiness does not follow it.',
      labelNames: ['dependency'] as const,
      registers: r,
    }),
    dbPoolConnections: new Gauge({ name: 'im_db_pool_connections', help: 'MySQL pool connections by state.', labelNames: ['state'] as const, registers: r }),
    redisMemory: new Gauge({ name: 'im_redis_memory_bytes', help: 'Redis used_memory (sampled).', registers: r }),
    storageBytes: new Gauge({ name: 'im_storage_bytes', help: 'Table storage, data plus index (sampled).', labelNames: ['table'] as const, registers: r }),
    pushes: new Counter({
      name: 'im_pushes_total',
      help: 'Pushes handed to a provider (fcm, apns, webhook), by result: sent, retried (429, 5xx, timeout), bad_token (removed), refused (not retried), expired (older than push.max_age_s, not sent).',
      labelNames: ['provider', 'result'] as const,
      registers: r,
    }),
    pushDuration: new Histogram({
      name: 'im_push_duration_seconds',
      help: "A provider's answer time, by provider.",
      labelNames: ['provider'] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    pushDeliveries: new Counter({
      name: 'im_push_deliveries_total',
      help: 'Offline deliveries seen by worker-push, by outcome: windowed (joined a collapse window), muted, no_token.',
      labelNames: ['result'] as const,
      registers: r,
    }),
    hookDuration: new Histogram({
      name: 'im_hook_duration_seconds',
      help: 'Send hook calls and events by hook (before_send, after_send, after_recall) and result (ok, timeout, error).',
      labelNames: ['hook', 'result'] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    hookMessages: new Counter({
      name: 'im_hook_messages_total',
      help: 'Messages by what a hook made of them: before_send accept/refuse/replace, or its policy when it failed (fail_open, fail_closed); events delivered (sent).',
      labelNames: ['hook', 'action'] as const,
      registers: r,
    }),
    cleanerDeleted: new Counter({ name: 'im_cleaner_deleted_total', help: 'Rows removed by the cleaner, by reason.', labelNames: ['reason'] as const, registers: r }),
  };
  zeroKnownSeries(metrics, role);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
