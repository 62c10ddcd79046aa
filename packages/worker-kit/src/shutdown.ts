import type { Logger } from '@im/logger';

export type ShutdownStep = readonly [name: string, run: () => Promise<unknown>];

/** How long a process may take to stop after SIGTERM before it exits 1; orchestrators must wait longer. */
export const SHUTDOWN_BUDGET_MS = 28_000;

/**
 * On SIGTERM or SIGINT: run the steps in order (stop taking work first, close pools last),
 * and exit 0; exit 1 if a step fails or the whole shutdown takes longer than timeoutMs.
 */
export function installShutdown(log: Logger, steps: () => readonly ShutdownStep[], timeoutMs = SHUTDOWN_BUDGET_MS): () => Promise<void> {
  let started: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> => {
    if (started) return started;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown took too long, exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    started = (async () => {
      let failed = false;
      for (const [name, run] of steps()) {
        try {
          await run();
        } catch (err) {
          failed = true;
          log.error({ err, step: name }, 'shutdown step failed');
        }
      }
      log.info({ failed }, 'stopped');
      process.exit(failed ? 1 : 0);
    })();
    return started;
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  return () => shutdown('request');
}
