import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { serializeError } from './serialize-error';

export type { Logger };
export { safeErrorCopy, safeMessage, serializeError, type SafeError } from './serialize-error';

/**
 * JSON logs on stdout (or `destination`), one base field `role` so logs of a fleet can be told
 * apart. Message bodies never go into logs at any level; ids do: `content` fields are redacted
 * and errors (under `err` or `error`) keep only safe fields (serialize-error.ts). `mixin` adds
 * fields to every line (with tracing on: the active span's trace_id and span_id).
 */
export function createLogger(role: string, level: LevelWithSilent = 'info', destination?: DestinationStream, mixin?: () => object): Logger {
  const options = {
    ...(mixin ? { mixin } : {}),
    level,
    base: { role, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    serializers: { err: serializeError, error: serializeError },
    redact: { paths: ['content', '*.content', 'req.headers.authorization'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
