import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { sourceOf, type Config } from '@im/config';
import { createPool } from '@im/db';
import { createRedis, waitForReady } from '@im/redis';

/** Where `npm start` leaves the local stack's settings (Redis, MySQL, API port and token) for the CLI. */
export const LOCAL_STACK_CONFIG = join('.stack', 'dev', 'im-message.ini');
const CHECKOUT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * The config file to read when none is given with -c: the one `npm start` wrote, in the current
 * directory or in this checkout. The environment still wins over it, as over any file.
 */
export function defaultConfigFile(cwd = process.cwd()): string | undefined {
  for (const dir of [cwd, CHECKOUT]) {
    const file = resolve(dir, LOCAL_STACK_CONFIG);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** A URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

const reason = (err: unknown) => {
  const e = err as { code?: string; message?: string };
  return e.code && !String(e.message).includes(e.code) ? `${e.code}: ${e.message}` : String(e.message ?? err);
};

/** What a person can do about an unreachable server, in one sentence. */
function unreachable(what: 'Redis' | 'MySQL', url: string, source: string, err: unknown, variable: string, key: string): Error {
  return new Error(
    `cannot reach ${what} at ${redact(url)} (${reason(err)}); that address came from ${source}. ` +
      `Start the local stack with npm start, or point the CLI elsewhere: ${variable}=..., IM_${key.replace('.', '_').toUpperCase()}=... or -c FILE`,
  );
}

/**
 * A Redis connection for one CLI command: tried once, so an unreachable server is a clear error
 * instead of a retry loop; a connection lost later fails the command the same way.
 */
export async function connectRedis(config: Config, name: string, role: 'producer' | 'subscriber' = 'producer'): Promise<Redis> {
  if (config.queue.cluster_nodes.length > 0) return connectCluster(config, name, role);
  const url = config.queue.redis_url;
  const redis = new Redis(url, { connectionName: name, lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  // Reported by the failing command, not as an unhandled event; connect() itself only says "Connection is closed".
  let cause: unknown;
  redis.on('error', (err) => (cause ??= err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw unreachable('Redis', url, sourceOf(config, 'queue.redis_url'), cause ?? err, 'REDIS_URL', 'queue.redis_url');
  }
  return redis;
}

/** The same for a Redis Cluster: the nodes of queue.cluster_nodes must answer within a few seconds. */
async function connectCluster(config: Config, name: string, role: 'producer' | 'subscriber'): Promise<Redis> {
  const redis = createRedis(config.queue, role, name);
  const nodes = config.queue.cluster_nodes.join(',');
  try {
    await waitForReady(redis, 5000);
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw unreachable('Redis', nodes, sourceOf(config, 'queue.cluster_nodes'), err, 'REDIS_CLUSTER_NODES', 'queue.cluster_nodes');
  }
  return redis;
}

/** Fails with one line naming the address and where it came from when MySQL does not answer. */
export async function checkMysql(config: Config): Promise<void> {
  const pool = createPool({ url: config.mysql.url, size: 1 });
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    throw unreachable('MySQL', config.mysql.url, sourceOf(config, 'mysql.url'), err, 'MYSQL_URL', 'mysql.url');
  } finally {
    await pool.end().catch(() => {});
  }
}
