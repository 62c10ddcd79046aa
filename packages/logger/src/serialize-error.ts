/**
 * Errors as logs may show them: what went wrong and where, never the data it happened to.
 *
 * mysql2 errors carry the interpolated statement (`sql`: every text of a multi-row insert) and
 * its `parameters`; ioredis errors carry the command with its arguments (`command.args`: a job's
 * JSON). Logging an error object as it is would write message text into the logs. So an error
 * is reduced to an allow-list of fields, its message loses quoted values that a server echoes
 * back (`Duplicate entry '...'`, `Incorrect string value: '...'`, `near '...'`), and its cause
 * chain is reduced the same way.
 */
export interface SafeError {
  type: string;
  message: string;
  code?: string | number;
  errno?: number;
  sqlState?: string;
  stack?: string;
  cause?: SafeError;
}

/** MySQL error codes whose message quotes the data of the statement. */
const ECHOING_CODES = /^(ER_PARSE_ERROR|ER_DUP_ENTRY|ER_DUP_ENTRY_WITH_KEY_NAME|ER_TRUNCATED_WRONG_VALUE.*|ER_WRONG_VALUE.*|ER_INVALID_CHARACTER_STRING|ER_DATA_OUT_OF_RANGE|ER_WARN_DATA_OUT_OF_RANGE|ER_CHECK_CONSTRAINT_VIOLATED)$/;
/** A quoted name (table, column, key, database) is kept; anything else in quotes is not. */
const IDENTIFIER = /^[A-Za-z0-9_$.-]{1,64}$/;
const MAX_MESSAGE = 500;

/** The message without the values a server quotes back; bounded in length. */
export function safeMessage(message: string, code?: unknown): string {
  const echoes = typeof code === 'string' && ECHOING_CODES.test(code);
  const cleaned = message.replace(/'((?:[^'\\]|\\.|'')*)'/g, (whole, inner: string) => (!echoes && IDENTIFIER.test(inner) ? whole : "'[redacted]'"));
  return cleaned.length > MAX_MESSAGE ? `${cleaned.slice(0, MAX_MESSAGE)}...` : cleaned;
}

export function serializeError(value: unknown, depth = 0): SafeError {
  if (!(value instanceof Error)) {
    return { type: typeof value, message: typeof value === 'string' ? safeMessage(value) : 'a non-error value was thrown' };
  }
  const e = value as Error & { code?: unknown; errno?: unknown; sqlState?: unknown };
  const type = e.name && e.name !== 'Error' ? e.name : (e.constructor?.name ?? 'Error');
  const message = safeMessage(e.message ?? '', e.code);
  const out: SafeError = { type, message };
  if (typeof e.code === 'string' || typeof e.code === 'number') out.code = e.code;
  if (typeof e.errno === 'number') out.errno = e.errno;
  if (typeof e.sqlState === 'string') out.sqlState = e.sqlState;
  if (typeof e.stack === 'string') {
    const frames = e.stack.split('\n').filter((l) => /^\s+at /.test(l));
    out.stack = [`${type}: ${message}`, ...frames].join('\n');
  }
  if (e.cause !== undefined && depth < 3) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

/**
 * A copy of an error that may travel where logs go (BullMQ keeps a failed job's message and
 * stack in Redis, the CLI prints them): same type, code and safe message, no data fields.
 */
export function safeErrorCopy(err: unknown): Error {
  const s = serializeError(err);
  const copy = new Error(s.message) as Error & { code?: string | number };
  copy.name = s.type;
  if (s.code !== undefined) copy.code = s.code;
  if (s.stack !== undefined) copy.stack = s.stack;
  return copy;
}
