import { createPool as createMysqlPool, type Pool, type PoolOptions } from 'mysql2/promise';

export type { Pool };

export interface PoolSettings {
  url: string;
  size: number;
  /** Callers waiting for a connection beyond this fail fast instead of queueing without bound. */
  queueLimit?: number;
  multipleStatements?: boolean;
}

/**
 * A mysql2 pool that never turns a BIGINT into a JS number (ids come back as decimal strings),
 * speaks utf8mb4 and bounds its wait queue.
 */
export function createPool(settings: PoolSettings): Pool {
  const options: PoolOptions = {
    uri: settings.url,
    connectionLimit: settings.size,
    maxIdle: settings.size,
    queueLimit: settings.queueLimit ?? settings.size * 50,
    waitForConnections: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    connectTimeout: 5000,
    enableKeepAlive: true,
    multipleStatements: settings.multipleStatements ?? false,
  };
  return createMysqlPool(options);
}

/** Connections of the pool in use and free, for im_db_pool_connections. */
export function poolStats(pool: Pool): { used: number; free: number } {
  const inner = (pool as unknown as { pool?: { _allConnections?: { length: number }; _freeConnections?: { length: number } } }).pool;
  const all = inner?._allConnections?.length ?? 0;
  const free = inner?._freeConnections?.length ?? 0;
  return { used: all - free, free };
}

/** `(?, ?, ?), (?, ?, ?)` for a multi-row INSERT of rows x columns. */
export function placeholders(rows: number, columns: number): string {
  const one = `(${new Array(columns).fill('?').join(', ')})`;
  return new Array(rows).fill(one).join(', ');
}
