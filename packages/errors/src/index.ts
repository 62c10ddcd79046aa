/** The contract's error codes (CONTRACT.md section 2) and what each means for callers and workers. */
export const ERROR_CODES = {
  INVALID_ARGUMENT: { status: 400, retryable: false },
  UNAUTHENTICATED: { status: 401, retryable: false },
  PERMISSION_DENIED: { status: 403, retryable: false },
  NOT_FOUND: { status: 404, retryable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false },
  RESOURCE_EXHAUSTED: { status: 429, retryable: true },
  UNAVAILABLE: { status: 503, retryable: true },
  INTERNAL: { status: 500, retryable: true },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Seconds a client should wait before retrying (429). */
  readonly retryAfterS: number | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retryAfterS?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryAfterS = options.retryAfterS;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export const invalidArgument = (message: string): AppError => new AppError('INVALID_ARGUMENT', message);
export const notFound = (message: string): AppError => new AppError('NOT_FOUND', message);
export const permissionDenied = (message: string): AppError => new AppError('PERMISSION_DENIED', message);
export const unavailable = (message: string, cause?: unknown): AppError => new AppError('UNAVAILABLE', message, { cause });

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_SERVER_SHUTDOWN',
  'ER_QUERY_INTERRUPTED',
]);

const CONNECTION_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  'enableOfflineQueue',
  'Queue limit reached',
  'Pool is closed',
  'connect ETIMEDOUT',
  'Reached the max retries per request limit',
  'MaxRetriesPerRequestError',
  // ioredis, mostly on a cluster during a failover:
  'Command aborted due to connection close',
  'Failed to refresh slots cache',
  'None of startup nodes is available',
  'Too many Cluster redirections',
];

/**
 * Redis replies that mean "not now" rather than "never": out of memory (noeviction), loading its
 * data after a restart, a replica or a primary without its replicas refusing writes, a cluster
 * that is resharding or lost a primary, a script that runs too long.
 */
const TRANSIENT_REDIS_REPLY = /^(OOM|LOADING|READONLY|MASTERDOWN|NOREPLICAS|CLUSTERDOWN|TRYAGAIN|BUSY) /;

/**
 * True when an error means Redis or MySQL could not be reached, is shutting down or cannot take
 * writes for now: safe to retry later (503 at ingest, retried without end in workers).
 */
export function isUnavailableError(err: unknown): boolean {
  if (err instanceof AppError) return err.code === 'UNAVAILABLE';
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  if (TRANSIENT_REDIS_REPLY.test(err.message)) return true;
  return CONNECTION_MESSAGES.some((m) => err.message.includes(m));
}

/** Turns any thrown value into an AppError: infrastructure failures become UNAVAILABLE, the rest INTERNAL. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isUnavailableError(err)) return unavailable('a backing service (Redis or MySQL) is unreachable; nothing was accepted, retry later', err);
  return new AppError('INTERNAL', 'internal error', { cause: err });
}
