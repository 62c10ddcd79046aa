import { ConfigError, configFileFromArgv, configWarnings, loadConfig, type Config } from '@im/config';
import { createLogger, type Logger } from '@im/logger';
import { createMetrics, type Metrics } from '@im/metrics';
import { logFields, reportTelemetryTo, startTelemetry, TelemetryConfigError, type Telemetry } from '@im/telemetry';

import type { Role } from '@im/contracts';

export { ROLES, type Role } from '@im/contracts';

/**
 * Default port of /health, /ready and /metrics per role (CONTRACT.md section 5); metrics.port
 * changes it. ingest-api serves them on its API port unless metrics.port gives it one of its own.
 */
export const DEFAULT_OPS_PORT: Record<Role, number> = {
  'ingest-api': 6000,
  'worker-persist': 9101,
  'worker-fanout': 9102,
  'worker-delivery': 9103,
  'worker-cleaner': 9104,
  'worker-push': 9105,
};

/** Where a role serves /health, /ready, /health/dependencies and /metrics under a config (the manifests' probes are checked against it). */
export function opsPortOf(role: Role, config: Config): number {
  return config.metrics.port || (role === 'ingest-api' ? config.message_service.port : DEFAULT_OPS_PORT[role]);
}

export interface Boot {
  role: Role;
  config: Config;
  log: Logger;
  metrics: Metrics;
  opsPort: number;
  /** Tracing (OTEL_* variables; off by default): flushed and stopped last at shutdown. */
  telemetry: Telemetry;
}

/**
 * The first lines of every process: title, telemetry (OTEL_* variables: off unless an exporter is
 * configured), config (a bad key or OTEL_* value exits 2 naming it), logger (with the trace id of
 * the active span on every line when tracing is on, and a warning for what the config passed
 * over), metrics, and a fatal log for anything that escapes.
 */
export function boot(role: Role): Boot {
  process.title = `im-${role}`;
  let config: Config;
  let telemetry: Telemetry;
  try {
    telemetry = startTelemetry(role);
    config = loadConfig({ file: configFileFromArgv() });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof TelemetryConfigError) {
      process.stderr.write(`im-${role}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(role, config.log.level, undefined, telemetry.settings.enabled ? logFields : undefined);
  reportTelemetryTo(log);
  if (telemetry.settings.enabled) log.info({ exporters: telemetry.settings.exporters, service: telemetry.settings.serviceName, sampler: telemetry.settings.sampler }, 'tracing on');
  for (const warning of configWarnings(config)) log.warn(warning);
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  const metrics = createMetrics(role);
  const opsPort = opsPortOf(role, config);
  return { role, config, log, metrics, opsPort, telemetry };
}

/** Runs fn every intervalMs (first run now) without keeping the process alive; errors go to onError. */
export function every(intervalMs: number, fn: () => Promise<void>, onError: (err: unknown) => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      await fn();
    } catch (err) {
      onError(err);
    }
    if (!stopped) {
      timer = setTimeout(() => void tick(), intervalMs);
      timer.unref();
    }
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Sets im_db_pool_connections from a pool's counts. */
export function recordPool(metrics: Metrics, stats: { used: number; free: number }): void {
  metrics.dbPoolConnections.set({ state: 'used' }, stats.used);
  metrics.dbPoolConnections.set({ state: 'free' }, stats.free);
}
