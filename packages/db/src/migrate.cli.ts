// `npm run migrate [-- -c conf/im-message.ini] [--wait SECONDS]`: applies pending migrations to the
// configured MySQL. --wait: while MySQL cannot be reached, or another migrate holds the lock, try
// again every 2 s for up to SECONDS (a pod's init container, started before or during an outage).
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, configFileFromArgv, configWarnings, loadConfig } from '@im/config';
import { migrate, MIGRATION_LOCKED, type MigrateResult } from './migrate';

/** Errors of reaching MySQL (not of what it answered): worth trying again while --wait lasts. */
const UNREACHABLE = new Set([MIGRATION_LOCKED, 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR']);

function waitSeconds(argv: readonly string[]): number {
  const i = argv.findIndex((a) => a === '--wait' || a.startsWith('--wait='));
  if (i < 0) return 0;
  const raw = argv[i]!.includes('=') ? argv[i]!.slice('--wait='.length) : argv[i + 1];
  if (raw === undefined || !/^\d+$/.test(raw)) throw new ConfigError([`--wait needs a number of seconds (got ${raw === undefined ? 'nothing' : `"${raw}"`})`]);
  return Number(raw);
}

try {
  const argv = process.argv.slice(2);
  const wait = waitSeconds(argv);
  const config = loadConfig({ file: configFileFromArgv(argv) });
  for (const warning of configWarnings(config)) process.stderr.write(`migrate: warning: ${warning}\n`);
  const deadline = Date.now() + wait * 1000;
  let waiting = false;
  let result: MigrateResult;
  for (;;) {
    try {
      result = await migrate(config.mysql.url, { log: (m) => process.stdout.write(`migrate: ${m}\n`) });
      break;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!code || !UNREACHABLE.has(code) || Date.now() >= deadline) throw err;
      if (!waiting) {
        const u = new URL(config.mysql.url);
        process.stderr.write(`migrate: waiting for MySQL at ${u.host} (${(err as Error).message}); trying again every 2 s for up to ${wait} s\n`);
        waiting = true;
      }
      await sleep(2000);
    }
  }
  process.stdout.write(`migrate: schema at version ${result.current} (${result.applied.length} applied now)\n`);
} catch (err) {
  process.stderr.write(`migrate: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
  process.exit(1);
}
