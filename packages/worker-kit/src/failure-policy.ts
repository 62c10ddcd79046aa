import { UnrecoverableError } from 'bullmq';
import { AppError, isJobFault, isUnavailableError } from '@im/errors';
import { safeErrorCopy } from '@im/logger';

/** What a failed attempt of a job means. */
export interface Verdict {
  /** The error BullMQ gets: an UnrecoverableError sends the job to the failed set, any other retries it. */
  error: Error;
  /** True when the job goes to the failed set. */
  failed: boolean;
  /** True when a backing service (Redis, MySQL, the network) failed: the job waits for it. */
  outage: boolean;
  /** The kind counted in im_errors_total: the contract code, UNAVAILABLE, or INTERNAL. */
  kind: string;
}

/**
 * The one failure policy of every worker, single-job and batch alike:
 * - an error about the job itself (an invalid payload, a contract error that is not retryable,
 *   data MySQL refuses: isJobFault) sends it to the failed set at once, where it is kept for an
 *   operator (`im-message failed`, `retry`);
 * - anything else (a backing service unavailable or switching over, DNS, the network, a bug)
 *   retries with the backoff capped at queue.max_backoff_ms for as long as it lasts: counted in
 *   im_errors_total, alerted when jobs keep retrying (JobsRetryingForLong), and done by itself
 *   once the cause is gone.
 * The error kept in Redis is reduced to safe fields, as in the logs (no message text).
 */
export function judgeFailure(err: unknown): Verdict {
  const outage = isUnavailableError(err);
  const kind = err instanceof AppError ? err.code : outage ? 'UNAVAILABLE' : 'INTERNAL';
  if (err instanceof UnrecoverableError) return { error: err, failed: true, outage: false, kind };
  if (isJobFault(err)) return { error: new UnrecoverableError(safeErrorCopy(err).message), failed: true, outage: false, kind };
  const copy = safeErrorCopy(err);
  // A provider's Retry-After survives the copy: the backoff honours it (worker.ts retryDelay).
  if (err instanceof AppError && err.retryAfterNamedS !== undefined) Object.assign(copy, { retryAfterS: err.retryAfterNamedS });
  return { error: copy, failed: false, outage, kind };
}
