import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout, one base field `role` so logs of a fleet can be told apart.
 * Message bodies never go into info-level logs; ids do.
 */
export function createLogger(role: string, level: LevelWithSilent = 'info'): Logger {
  return pino({
    level,
    base: { role, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['content', '*.content', 'req.headers.authorization'], censor: '[redacted]' },
  });
}
