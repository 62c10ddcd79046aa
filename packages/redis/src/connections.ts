import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type { Redis };

/** Where Redis is: one server (`redis_url`), or a Redis Cluster (`cluster_nodes`, with redis_url's user, password and TLS). */
export interface RedisTarget {
  redis_url: string;
  cluster_nodes: readonly string[];
}

/**
 * - producer: an HTTP process. Fails fast when Redis is down (no offline queue, one retry),
 *   so the API answers 503 instead of holding requests; the commands of concurrent requests are
 *   auto-pipelined. A command that gets no reply within `commandTimeoutMs` fails, and so does a
 *   command in flight when the connection drops (never sent again on the next connection, where
 *   it could run after the request was answered): its outcome is unknown, and the caller finds it
 *   out (ingest asks whether the job it added exists) within the request's time.
 * - worker: waits for Redis as long as it takes (BullMQ workers need maxRetriesPerRequest null).
 *   No auto-pipelining: it halves BullMQ's job rate (measured: about 5,300 against 10,000 no-op
 *   jobs/s); handlers pipeline explicitly where they send many commands.
 * - subscriber: a Pub/Sub connection (tests, the CLI's tail).
 */
export type RedisRole = 'producer' | 'worker' | 'subscriber';

/**
 * A connection for a role, to one server or to a cluster. A cluster client is typed as `Redis`:
 * it offers the same commands (BullMQ takes either), and the few calls that differ on a cluster
 * (multi-key commands across slots, pipelines, the server a command runs on) go through the
 * helpers below.
 */
export function createRedis(target: RedisTarget | string, role: RedisRole, name: string, onError?: (err: Error) => void, o: { commandTimeoutMs?: number } = {}): Redis {
  const url = typeof target === 'string' ? target : target.redis_url;
  const nodes = typeof target === 'string' ? [] : target.cluster_nodes;
  const options: RedisOptions = {
    connectionName: name,
    maxRetriesPerRequest: role === 'producer' ? 1 : null,
    connectTimeout: 5000,
    ...(role === 'producer' ? { autoResendUnfulfilledCommands: false } : {}),
    ...(o.commandTimeoutMs !== undefined ? { commandTimeout: o.commandTimeoutMs } : {}),
  };
  const redis =
    nodes.length === 0
      ? new Redis(url, {
          ...options,
          enableOfflineQueue: role !== 'producer',
          enableAutoPipelining: role === 'producer',
          retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
        })
      : (new Cluster(
          nodes.map((n) => {
            const i = n.lastIndexOf(':');
            return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
          }),
          {
            redisOptions: { ...options, ...credentials(url) },
            enableOfflineQueue: role !== 'producer',
            // Off on a cluster: ioredis groups auto-pipelined commands by the node of their first
            // key and misreads the keys of scripts defined with a key count given per call.
            enableAutoPipelining: false,
            clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
            // Through a failover: MOVED/ASK are followed, a cluster that is down is retried.
            maxRedirections: 16,
            retryDelayOnFailover: 200,
            retryDelayOnClusterDown: 200,
            retryDelayOnTryAgain: 100,
            slotsRefreshTimeout: 2000,
            shardedSubscribers: role === 'subscriber',
          },
        ) as unknown as Redis);
  // Connection errors repeat on every reconnect attempt: report the first of each 10 s.
  let lastReport = 0;
  redis.on('error', (err: Error) => {
    const now = Date.now();
    if (now - lastReport < 10_000) return;
    lastReport = now;
    onError?.(err);
  });
  return redis;
}

function credentials(url: string): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  const u = new URL(url);
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export function isCluster(redis: Redis): boolean {
  return (redis as unknown as { isCluster?: boolean }).isCluster === true;
}

/**
 * GET of many keys: one MGET on a single server; on a cluster one MGET per slot, all sent at once
 * (a multi-key command across slots is refused there).
 */
export async function mgetAny(redis: Redis, keyList: readonly string[]): Promise<(string | null)[]> {
  if (keyList.length === 0) return [];
  if (!isCluster(redis)) return redis.mget([...keyList]);
  const bySlot = new Map<number, number[]>();
  keyList.forEach((k, i) => {
    const slot = calculateSlot(k);
    const list = bySlot.get(slot);
    if (list) list.push(i);
    else bySlot.set(slot, [i]);
  });
  const out: (string | null)[] = new Array(keyList.length).fill(null);
  await Promise.all(
    [...bySlot.values()].map(async (idx) => {
      const values = await redis.mget(idx.map((i) => keyList[i]!));
      idx.forEach((i, k) => (out[i] = values[k] ?? null));
    }),
  );
  return out;
}

/**
 * Redis WAIT on the connection that just wrote to `key`'s slot: resolves to how many replicas
 * acknowledged every write of that connection so far (at most timeoutMs later). On a cluster the
 * WAIT rides in a pipeline with a command on `key`, so it runs on the node holding that slot.
 */
export async function waitForReplicas(redis: Redis, key: string, replicas: number, timeoutMs: number): Promise<number> {
  if (!isCluster(redis)) return Number(await redis.wait(replicas, timeoutMs));
  const results = (await redis.pipeline().exists(key).wait(replicas, timeoutMs).exec()) ?? [];
  const [err, held] = results[1] ?? [new Error('WAIT got no reply'), 0];
  if (err) throw err;
  return Number(held);
}

export { calculateSlot };

/** Quits politely when connected, else just drops the connection (no reconnect loop left behind). */
export async function closeRedis(redis: Redis): Promise<void> {
  try {
    if (redis.status === 'ready') await redis.quit();
  } finally {
    redis.disconnect();
  }
}

/** Resolves when the connection is ready, rejects after timeoutMs. */
export function waitForReady(redis: Redis, timeoutMs = 30_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
