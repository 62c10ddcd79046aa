/**
 * What the standard OpenTelemetry variables ask of a process. Tracing is off unless an exporter is
 * configured: OTEL_TRACES_EXPORTER (otlp, console) or an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, which imply otlp). OTEL_SDK_DISABLED=true turns it off
 * whatever else is set. These variables are the one interface every OpenTelemetry SDK shares, so
 * they are read as they are (here, once at boot) rather than copied into the service's config.
 */
export type TelemetrySettings =
  | { enabled: false; reason: string }
  | {
      enabled: true;
      exporters: readonly ('otlp' | 'console')[];
      protocol: 'http/protobuf' | 'http/json';
      serviceName: string;
      sampler: SamplerSettings;
      /** OTEL_BSP_*: the batch span processor's schedule, queue and export limits (unset: the SDK's defaults). */
      batch: { scheduledDelayMillis?: number; maxQueueSize?: number; maxExportBatchSize?: number; exportTimeoutMillis?: number };
    };

export interface SamplerSettings {
  /** always_on, always_off or traceidratio at the root of a trace. */
  root: 'always_on' | 'always_off' | 'traceidratio';
  /** parentbased_*: a span with a parent follows its parent's decision. */
  parentBased: boolean;
  ratio: number;
}

export class TelemetryConfigError extends Error {
  override name = 'TelemetryConfigError';
}

const SAMPLERS: Record<string, Pick<SamplerSettings, 'root' | 'parentBased'>> = {
  always_on: { root: 'always_on', parentBased: false },
  always_off: { root: 'always_off', parentBased: false },
  traceidratio: { root: 'traceidratio', parentBased: false },
  parentbased_always_on: { root: 'always_on', parentBased: true },
  parentbased_always_off: { root: 'always_off', parentBased: true },
  parentbased_traceidratio: { root: 'traceidratio', parentBased: true },
};

const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/**
 * Reads the OTEL_* variables. A value it cannot honour (an exporter or sampler it does not know,
 * the grpc protocol, a ratio outside 0..1) is a TelemetryConfigError naming the variable: the
 * process refuses to start rather than run without the traces it was asked for.
 */
export function telemetrySettings(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): TelemetrySettings {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return { enabled: false, reason: 'OTEL_SDK_DISABLED=true' };
  const endpoint = set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || set(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const names = set(env.OTEL_TRACES_EXPORTER)
    ? env.OTEL_TRACES_EXPORTER.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
    : endpoint
      ? ['otlp']
      : [];
  if (names.length === 0) return { enabled: false, reason: 'no trace exporter configured (OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_ENDPOINT)' };
  if (names.includes('none')) {
    if (names.length > 1) throw new TelemetryConfigError(`OTEL_TRACES_EXPORTER="${env.OTEL_TRACES_EXPORTER}": "none" cannot be combined with other exporters`);
    return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' };
  }
  for (const n of names) {
    if (n !== 'otlp' && n !== 'console') throw new TelemetryConfigError(`OTEL_TRACES_EXPORTER="${env.OTEL_TRACES_EXPORTER}": "${n}" is not supported (otlp, console or none)`);
  }
  const protocolVar = set(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = (env[protocolVar]?.trim() || 'http/protobuf').toLowerCase();
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new TelemetryConfigError(`${protocolVar}="${env[protocolVar]}": only http/protobuf and http/json are supported (an OpenTelemetry Collector takes both on port 4318)`);
  }
  const samplerName = (env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on').toLowerCase();
  const kind = SAMPLERS[samplerName];
  if (!kind) throw new TelemetryConfigError(`OTEL_TRACES_SAMPLER="${env.OTEL_TRACES_SAMPLER}" is not supported (${Object.keys(SAMPLERS).join(', ')})`);
  let ratio = 1;
  if (kind.root === 'traceidratio' && set(env.OTEL_TRACES_SAMPLER_ARG)) {
    ratio = Number(env.OTEL_TRACES_SAMPLER_ARG);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new TelemetryConfigError(`OTEL_TRACES_SAMPLER_ARG="${env.OTEL_TRACES_SAMPLER_ARG}" must be a ratio between 0 and 1`);
  }
  const batch: Extract<TelemetrySettings, { enabled: true }>['batch'] = {};
  for (const [name, key] of [
    ['OTEL_BSP_SCHEDULE_DELAY', 'scheduledDelayMillis'],
    ['OTEL_BSP_MAX_QUEUE_SIZE', 'maxQueueSize'],
    ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'maxExportBatchSize'],
    ['OTEL_BSP_EXPORT_TIMEOUT', 'exportTimeoutMillis'],
  ] as const) {
    if (!set(env[name])) continue;
    const n = Number(env[name]);
    if (!Number.isInteger(n) || n < (key === 'scheduledDelayMillis' ? 0 : 1)) throw new TelemetryConfigError(`${name}="${env[name]}" must be a whole number${key === 'scheduledDelayMillis' ? '' : ' above 0'}`);
    batch[key] = n;
  }
  return {
    enabled: true,
    batch,
    exporters: [...new Set(names)] as ('otlp' | 'console')[],
    protocol,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName,
    sampler: { ...kind, ratio },
  };
}
