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

/**
 * The machine-readable reason beside each code (CONTRACT.md section 2): what a caller branches on
 * when one code covers several cases (an unknown user or an unknown group, a send refused for an
 * outage or with an outcome not known). Each reason belongs to one code; docs/openapi.yaml lists
 * the same reasons per code, and a test holds the two together.
 */
export const ERROR_REASONS = {
  INVALID_ARGUMENT: ['INVALID_FIELD', 'MALFORMED_BODY', 'UNSUPPORTED_MEDIA_TYPE', 'INVALID_PATH', 'INVALID_CURSOR', 'METHOD_NOT_ALLOWED'],
  UNAUTHENTICATED: ['MISSING_TOKEN', 'INVALID_TOKEN'],
  PERMISSION_DENIED: ['NOT_A_MEMBER', 'NOT_THE_SENDER', 'DEVICE_LIMIT', 'HOOK_REFUSED'],
  NOT_FOUND: ['UNKNOWN_USER', 'UNKNOWN_GROUP', 'UNKNOWN_MESSAGE', 'UNKNOWN_DEVICE', 'UNKNOWN_ROUTE'],
  PAYLOAD_TOO_LARGE: ['PAYLOAD_TOO_LARGE'],
  RESOURCE_EXHAUSTED: ['RATE_LIMITED', 'STREAM_BACKLOG'],
  UNAVAILABLE: ['DEPENDENCY_UNAVAILABLE', 'OVERLOADED', 'ADMISSION_TIMEOUT', 'OUTCOME_UNKNOWN', 'SEND_IN_PROGRESS', 'REPLICATION_TIMEOUT', 'RESHARDING', 'HOOK_UNAVAILABLE', 'SHUTTING_DOWN'],
  INTERNAL: ['INTERNAL_ERROR'],
} as const satisfies Record<ErrorCode, readonly string[]>;

export type ErrorReason<C extends ErrorCode = ErrorCode> = (typeof ERROR_REASONS)[C][number];

/** Seconds to wait before a retry when an UNAVAILABLE error names none (Retry-After of every 503). */
export const DEFAULT_RETRY_AFTER_S = 1;

/** An error body of the contract: {"error": ErrorBody}, and a failed item of a batch. */
export interface ErrorBody {
  code: ErrorCode;
  reason: ErrorReason;
  message: string;
  /** Seconds to wait before retrying: on RESOURCE_EXHAUSTED and UNAVAILABLE only (the Retry-After header's value). */
  retry_after_s?: number;
}

export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly reason: ErrorReason<C>;
  /**
   * The wait the error itself names (a provider's or hook receiver's Retry-After), if any; unlike
   * retryAfterS, no default: a worker's backoff honours only a wait someone asked for.
   */
  readonly retryAfterNamedS: number | undefined;

  constructor(code: C, message: string, options: { reason: ErrorReason<C>; cause?: unknown; retryAfterS?: number }) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.reason = options.reason;
    this.retryAfterNamedS = options.retryAfterS;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }

  /** Seconds a client should wait before retrying: set on every 429 and 503 (1 s unless the error says more). */
  get retryAfterS(): number | undefined {
    if (this.code === 'UNAVAILABLE' || this.code === 'RESOURCE_EXHAUSTED') return this.retryAfterNamedS ?? DEFAULT_RETRY_AFTER_S;
    return undefined;
  }

  toJSON(): ErrorBody {
    const retryAfterS = this.retryAfterS;
    return { code: this.code, reason: this.reason, message: this.message, ...(retryAfterS !== undefined ? { retry_after_s: retryAfterS } : {}) };
  }
}

export const invalidArgument = (message: string, reason: ErrorReason<'INVALID_ARGUMENT'> = 'INVALID_FIELD'): AppError<'INVALID_ARGUMENT'> =>
  new AppError('INVALID_ARGUMENT', message, { reason });
export const notFound = (reason: ErrorReason<'NOT_FOUND'>, message: string): AppError<'NOT_FOUND'> => new AppError('NOT_FOUND', message, { reason });
export const permissionDenied = (reason: ErrorReason<'PERMISSION_DENIED'>, message: string): AppError<'PERMISSION_DENIED'> =>
  new AppError('PERMISSION_DENIED', message, { reason });
export const unavailable = (reason: ErrorReason<'UNAVAILABLE'>, message: string, cause?: unknown): AppError<'UNAVAILABLE'> =>
  new AppError('UNAVAILABLE', message, { reason, cause });

/**
 * Error codes of the MySQL driver and the system (network, DNS) that say where a request failed,
 * not what it carried: `ER_...` replies of the server (read_only during a switchover, a lock
 * timeout, too many connections, a statement killed), `PROTOCOL_...` and `HANDSHAKE_...` of the
 * driver, and errno names of the system (`ECONNREFUSED`, `EAI_AGAIN` of DNS in Kubernetes,
 * `ENETUNREACH`, `ECONNABORTED`, ...). Errors about the data a statement carried are told apart by
 * their SQLSTATE (isDataFault).
 */
const BACKING_SERVICE_CODE = /^(ER_\w+|PROTOCOL_\w+|HANDSHAKE_\w+|E[A-Z][A-Z0-9_]+)$/;

/** Errors of the Redis client that mean the connection, not the command, failed. */
const REDIS_CLIENT_ERRORS = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

const CONNECTION_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  'enableOfflineQueue',
  'Queue limit reached',
  'Pool is closed',
  'connect ETIMEDOUT',
  'Command timed out',
  'Reached the max retries per request limit',
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
const TRANSIENT_REDIS_REPLY = /^(OOM|LOADING|READONLY|MASTERDOWN|NOREPLICAS|CLUSTERDOWN|TRYAGAIN|BUSY|MOVED|ASK) /;

/**
 * True when MySQL refused a statement for the data it carried: SQLSTATE class 22 (data exception:
 * too long, out of range, a bad value) or 23 (integrity constraint). The same data fails again.
 */
export function isDataFault(err: unknown): boolean {
  const state = (err as { sqlState?: unknown } | null)?.sqlState;
  return typeof state === 'string' && (state.startsWith('22') || state.startsWith('23'));
}

/**
 * True when MySQL refused the statement itself (SQLSTATE class 42: a syntax error, a table or
 * column that does not exist): a bug or a schema that was not migrated, INTERNAL rather than an
 * outage. Workers still retry it (the fix lands the jobs), but ingest answers 500, not 503.
 */
function isStatementFault(err: unknown): boolean {
  const state = (err as { sqlState?: unknown } | null)?.sqlState;
  return typeof state === 'string' && state.startsWith('42');
}

/**
 * True when an error is about the job or request itself, so that running it again as it is can
 * never succeed: a contract error that is not retryable (an invalid argument, an unknown id) or
 * data MySQL refuses. Workers put such a job in the failed set at once; every other failure
 * retries with the capped backoff for as long as it lasts.
 */
export function isJobFault(err: unknown): boolean {
  if (err instanceof AppError) return !err.retryable;
  return isDataFault(err);
}

/**
 * True when an error means a backing service (Redis, MySQL, the network or DNS between) failed
 * or cannot take the request for now: safe to retry later (503 at ingest, retried without end in
 * workers). Judged by what failed, not by a list of symptoms: any error code of the MySQL driver
 * or of the system, any Redis error reply that is not about the command, and the Redis client's
 * connection errors.
 */
export function isUnavailableError(err: unknown): boolean {
  if (err instanceof AppError) return err.code === 'UNAVAILABLE';
  if (!(err instanceof Error) || isDataFault(err) || isStatementFault(err)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && BACKING_SERVICE_CODE.test(code)) return true;
  if (REDIS_CLIENT_ERRORS.has(err.name)) return true;
  if (TRANSIENT_REDIS_REPLY.test(err.message)) return true;
  return CONNECTION_MESSAGES.some((m) => err.message.includes(m));
}

/** Turns any thrown value into an AppError: infrastructure failures become UNAVAILABLE, the rest INTERNAL. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isUnavailableError(err)) return unavailable('DEPENDENCY_UNAVAILABLE', 'a backing service (Redis or MySQL) is unreachable; nothing was accepted, retry later', err);
  return new AppError('INTERNAL', 'internal error', { reason: 'INTERNAL_ERROR', cause: err });
}
