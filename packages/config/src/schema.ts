/**
 * Every configuration key of CONTRACT.md section 6, with its type, default and bounds.
 * The Config type is inferred from this table, so a key is written once.
 */
export interface KeySpec<T> {
  default: T;
  parse(raw: string): T;
  describe: string;
}

function int(def: number, min: number, max = Number.MAX_SAFE_INTEGER): KeySpec<number> {
  return {
    default: def,
    describe: `an integer from ${min} to ${max}`,
    parse(raw) {
      if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected ${this.describe}, got "${raw}"`);
      const n = Number(raw.trim());
      if (n < min || n > max) throw new Error(`expected ${this.describe}, got ${n}`);
      return n;
    },
  };
}

function str(def: string, pattern?: RegExp, describe = 'a string'): KeySpec<string> {
  return {
    default: def,
    describe,
    parse(raw) {
      const v = raw.trim();
      if (pattern && !pattern.test(v)) throw new Error(`expected ${describe}, got "${raw}"`);
      return v;
    },
  };
}

function list(describe: string, itemPattern: RegExp): KeySpec<readonly string[]> {
  return {
    default: Object.freeze([]) as readonly string[],
    describe,
    parse(raw) {
      const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      for (const item of items) {
        if (!itemPattern.test(item)) throw new Error(`expected ${describe}; one of ${items.length} is not (${item.length} characters)`);
      }
      return Object.freeze(items);
    },
  };
}

/** A string taken as it is (a password keeps its spaces). */
function verbatim(describe: string): KeySpec<string> {
  return { default: '', describe, parse: (raw) => raw };
}

function bool(def: boolean): KeySpec<boolean> {
  return {
    default: def,
    describe: 'true or false',
    parse(raw) {
      const v = raw.trim().toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
      throw new Error(`expected true or false, got "${raw}"`);
    },
  };
}

function oneOf<T extends string>(def: T, values: readonly T[]): KeySpec<T> {
  return {
    default: def,
    describe: `one of ${values.join(', ')}`,
    parse(raw) {
      const v = raw.trim() as T;
      if (!values.includes(v)) throw new Error(`expected one of ${values.join(', ')}, got "${raw}"`);
      return v;
    },
  };
}

export const schema = {
  message_service: {
    host: str('127.0.0.1', /^[\w.:-]+$/, 'a host name or address to listen on'),
    port: int(6000, 1, 65535),
    /** Port of the gRPC MessageService (proto/im_message.proto); 0 turns it off. */
    grpc_port: int(6001, 0, 65535),
    max_connections: int(2000, 1),
    max_body_bytes: int(1_048_576, 1024, 64 * 1024 * 1024),
    /** Upper bound of ingest's in-flight sends waiting for the queue; beyond it ingest answers 503. */
    max_pending_sends: int(20_000, 100),
    /**
     * Sends of one gRPC SendStream in flight (received, not yet answered); a frame beyond it is
     * answered RESOURCE_EXHAUSTED at once, never dropped (proto/im_message.proto). 500 is a
     * quarter second of 2,000 sends/s on one stream; with 2,000, four streams kept up to 8,000
     * sends in an overloaded ingest (50 MB more RSS than POST at the same rate), and those that
     * waited past the admission cutoff were answered 503 after seconds instead of 429 at once.
     */
    stream_max_in_flight: int(500, 1, 100_000),
    /**
     * Every send is answered within this time: 202 once queued, else 503 (nothing queued, safe to
     * retry). Each Redis command of ingest times out after a sixth of it (docs/architecture.md).
     */
    request_timeout_ms: int(3000, 300, 60_000),
  },
  message_limits: {
    max_message_length: int(4096, 1, 65_535),
    max_offline_messages: int(1000, 1),
    offline_message_ttl: int(30, 1, 3650),
    ack_timeout_s: int(30, 1, 86_400),
  },
  queue: {
    redis_url: str('redis://127.0.0.1:6379', /^rediss?:\/\//, 'a redis:// or rediss:// URL'),
    /**
     * redis_url in parts, in the form KEDA's redis scalers read them (address, username, password,
     * tls), so that one Secret feeds the roles and the autoscaler (infra/k8s): each part given
     * replaces that part of redis_url. The server's host:port (not with redis_url too; on Redis
     * Cluster, cluster_nodes instead) ...
     */
    redis_address: str('', /^$|^[\w.-]+:\d{1,5}$/, 'host:port of the Redis server'),
    /** ... its user and password (empty: none, or redis_url's) ... */
    redis_username: verbatim('a Redis user name'),
    redis_password: verbatim('a Redis password'),
    /** ... and TLS: `enable` (rediss://) or `disable` (redis://); empty: as redis_url's scheme says. */
    redis_tls: {
      default: '',
      describe: 'enable or disable',
      parse(raw: string) {
        const v = raw.trim();
        if (v !== '' && v !== 'enable' && v !== 'disable') throw new Error(`expected enable or disable (KEDA's words), got "${raw}"`);
        return v as '' | 'enable' | 'disable';
      },
    } satisfies KeySpec<'' | 'enable' | 'disable'>,
    /**
     * Redis Cluster nodes (host:port, a few are enough to discover the rest). When set, every
     * process uses the cluster for everything and redis_url only lends its user, password and TLS.
     */
    cluster_nodes: list('comma-separated host:port of Redis Cluster nodes', /^[\w.-]+:\d{1,5}$/),
    /**
     * Queues per stage; a conversation's messages go through the shard of its conversation. The
     * count a new deployment starts with: after that the deployment's record in Redis rules
     * (`im-message reshard N` changes it; processes follow it whatever this says).
     */
    shards: int(1, 1, 256),
    /** Shards this worker process consumes (empty: all). */
    consume_shards: list('comma-separated shard numbers (0 to shards - 1)', /^\d{1,3}$/),
    /** classic: PUBLISH/SUBSCRIBE; sharded: SPUBLISH/SSUBSCRIBE (Redis 7; for large clusters). */
    pubsub: oneOf('classic', ['classic', 'sharded'] as const),
    /**
     * Online delivery in seq order within a conversation (on by default): admission tickets put
     * each shard's jobs in admission order, and one fenced process of the fleet at a time consumes
     * each shard's queues (docs/scaling.md). Measured at 5-7 % of the throughput of unordered
     * delivery on two cores; false lets several processes consume a shard at once, and gateways
     * order by seq.
     */
    ordered: bool(true),
    /** Replicas that must hold a batch's persist job before ingest answers 202 (Redis WAIT); 0: do not wait. */
    min_replicas: int(0, 0, 16),
    /** How long ingest waits for min_replicas; past it the send gets 503 (safe to retry with its client_msg_id). */
    replica_timeout_ms: int(500, 10, 60_000),
    /** BullMQ key prefix; one hash tag so every queue key lands in one Redis Cluster slot. */
    prefix: str('{im}', /^[\w{}.-]+$/, 'letters, digits, _ . - { } (no ":")'),
    queue_size: int(10_000, 1),
    /**
     * Persist jobs not yet done (waiting, retrying, active) beyond which ingest answers 503 instead
     * of queueing more (0: no bound). Bounds Redis memory during a MySQL outage.
     */
    max_persist_backlog: int(20_000, 0),
    batch_size: int(100, 1, 1000),
    /** How long a micro-batch waits for more items before it is flushed. */
    batch_wait_ms: int(2, 0, 1000),
    /** Jobs one worker process handles at once. */
    concurrency: int(16, 1, 1000),
    /** First retry delay; it doubles per attempt up to max_backoff_ms. */
    backoff_ms: int(200, 10, 600_000),
    /** Longest delay between two attempts: after an outage, work resumes within this time. */
    max_backoff_ms: int(5000, 100, 600_000),
  },
  mysql: {
    url: str('mysql://127.0.0.1:3306/im', /^mysql:\/\//, 'a mysql:// URL (credentials in the config file or MYSQL_URL, never in code)'),
    pool_size: int(10, 1, 1000),
  },
  auth: {
    api_tokens: list('comma-separated tokens of 16 to 256 characters [A-Za-z0-9._~+/=-]', /^[A-Za-z0-9._~+/=-]{16,256}$/),
  },
  rate_limit: {
    /** Messages one sender may send per second across all ingest processes; 0 turns the limit off. */
    per_sender_per_s: int(200, 0),
  },
  metrics: {
    /** Port of /health, /ready and /metrics for workers; 0 means the role's default (9101-9104). */
    port: int(0, 0, 65535),
  },
  dashboard: {
    /**
     * ingest-api's second listener: the queue dashboard (/queues) and the API docs (/docs), on an
     * address a browser can open (the API's port 6000 is one browsers refuse). No token: keep it on
     * loopback (kubectl port-forward, an SSH tunnel) or behind your own proxy.
     */
    host: str('127.0.0.1', /^[\w.:-]+$/, 'a host name or address to listen on'),
    /** 0 turns the dashboard listener off. */
    port: int(6002, 0, 65535),
    /** false lets the dashboard retry, promote and remove jobs; true only shows them. */
    read_only: bool(true),
  },
  history_cache: {
    /**
     * The newest messages kept in Redis per conversation being read (worker-persist keeps them,
     * GET history's first page reads them); 0 turns the cache off.
     */
    messages: int(100, 0, 1000),
    /** A conversation's cache lives this long from its first read, then is built again. */
    ttl_s: int(300, 1, 86_400),
  },
  devices: {
    /** Devices a user may have registered at once; one more is refused until one is removed. */
    max_per_user: int(10, 1, 1000),
    /** A device not seen for this many days is forgotten with its sync by worker-cleaner. */
    inactive_days: int(30, 1, 3650),
    /** A new device's sync starts with the newest messages of the user's conversations from this many days ... */
    new_device_window_days: int(30, 0, 3650),
    /** ... at most this many. */
    new_device_max_messages: int(1000, 0, 100_000),
  },
  receipts: {
    /** A read ack also sends the peer of a single chat a `receipt` event (off: readers stay private). */
    notify_peer: bool(false),
  },
  cleaner: {
    interval_s: int(3600, 1),
    history_retention_days: int(0, 0, 36_500),
  },
  push: {
    /**
     * Offline deliveries are handed to im.push, and worker-push sends them to the device's provider
     * (docs/push.md). Off: no push job is queued (run worker-push before turning it on).
     */
    enabled: bool(false),
    /** Whether a push carries the message text; otherwise only ids, the conversation and a count. */
    include_content: bool(false),
    /** Messages for one device within this window become one push with a count (0: one push per message). */
    collapse_window_ms: int(2000, 0, 600_000),
    /** Longest wait for a provider's answer; past it the push is retried with the backoff. */
    timeout_ms: int(5000, 100, 60_000),
    /**
     * A push whose newest message is older than this when its turn comes (a provider down for
     * hours) is dropped, counted as expired: the app pulls the messages anyway (0: never).
     */
    max_age_s: int(86_400, 0, 2_419_200),
    /** The generic provider: pushes of devices registered with platform `webhook` are POSTed here, signed. */
    webhook_url: str('', /^$|^https?:\/\/\S+$/, 'an http:// or https:// URL'),
    /** HMAC-SHA256 key of the webhook's X-IM-Signature (required with webhook_url). */
    webhook_secret: verbatim('a shared secret'),
    /** FCM: the service account's JSON key file (project_id, client_email, private_key, token_uri). */
    fcm_credentials_file: str('', /^\S*$/, 'a file path'),
    /** FCM's API base URL. */
    fcm_endpoint: str('https://fcm.googleapis.com', /^https?:\/\/\S+$/, 'an http:// or https:// URL'),
    /** APNs: the token-auth signing key (.p8, PEM), its key id and the team id. */
    apns_key_file: str('', /^\S*$/, 'a file path'),
    apns_key_id: str('', /^[A-Z0-9]{0,10}$/, 'a 10-character key id'),
    apns_team_id: str('', /^[A-Z0-9]{0,10}$/, 'a 10-character team id'),
    /** The app's bundle id (apns-topic). */
    apns_topic: str('', /^[\w.-]*$/, 'a bundle id'),
    /** APNs's HTTP/2 endpoint (api.sandbox.push.apple.com for development builds). */
    apns_endpoint: str('https://api.push.apple.com', /^https?:\/\/\S+$/, 'an http:// or https:// URL'),
  },
  hooks: {
    /**
     * before_send: every send (a batch request's messages in one call) is POSTed here before it is
     * admitted; the answer accepts, refuses (the sender gets 403 naming the reason) or replaces the
     * content of each message (docs/hooks.md). Empty: no hook.
     */
    before_send_url: str('', /^$|^https?:\/\/\S+$/, 'an http:// or https:// URL'),
    /** Longest wait for the hook; at most a quarter of message_service.request_timeout_ms. */
    before_send_timeout_ms: int(500, 10, 60_000),
    /** When the hook fails or times out: fail_open admits the sends unchanged, fail_closed refuses them (503). */
    before_send_policy: oneOf('fail_open', ['fail_open', 'fail_closed'] as const),
    /** after_send: each stored message is POSTed here (batched per persist job) by worker-push, at least once. */
    after_send_url: str('', /^$|^https?:\/\/\S+$/, 'an http:// or https:// URL'),
    /** after_recall: each recall is POSTed here by worker-push, at least once. */
    after_recall_url: str('', /^$|^https?:\/\/\S+$/, 'an http:// or https:// URL'),
    /** Longest wait for an event's answer; past it the event is retried. */
    events_timeout_ms: int(5000, 100, 60_000),
    /** HMAC-SHA256 key of X-IM-Signature on every hook call and event (required with any hook URL). */
    secret: verbatim('a shared secret'),
  },
  log: {
    level: oneOf('info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
  },
} as const;

type Schema = typeof schema;
export type Config = {
  readonly [S in keyof Schema]: { readonly [K in keyof Schema[S]]: Schema[S][K] extends KeySpec<infer T> ? T : never };
};

/** Keys that were settings once, with what replaced them: a config that still sets one gets this, not "unknown key". */
export const REMOVED_KEYS: Readonly<Record<string, string>> = {
  'queue.attempts':
    'a job now fails for good only when the job itself is at fault (an invalid payload, data the database refuses); every other failure retries with the capped backoff until it succeeds (docs/architecture.md, Routing outcomes)',
};

/** Environment variables that stand for a key, besides the regular IM_<SECTION>_<KEY>. */
export const SHORTHANDS: Readonly<Record<string, readonly [string, string]>> = {
  REDIS_URL: ['queue', 'redis_url'],
  REDIS_CLUSTER_NODES: ['queue', 'cluster_nodes'],
  MYSQL_URL: ['mysql', 'url'],
  IM_API_TOKENS: ['auth', 'api_tokens'],
};
