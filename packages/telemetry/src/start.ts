import { context, diag, DiagLogLevel, propagation, SpanKind, trace, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpHttpJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpHttpProtobuf } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { instrumentDrivers } from './drivers';
import { telemetrySettings, type SamplerSettings, type TelemetrySettings } from './settings';
import { useTracer } from './tracing';

/** What the telemetry of a process is: on or off, and how to flush and stop it. */
export interface Telemetry {
  settings: TelemetrySettings;
  /** Exports what is buffered and stops (the last step of the shutdown). */
  shutdown(): Promise<void>;
}

/** Where the SDK's own complaints go (an exporter that cannot reach its endpoint): the process's log, once it has one. */
export interface TelemetryLog {
  warn(obj: object, msg: string): void;
}

let current: { telemetry: Telemetry; provider: TracerProvider } | undefined;

/**
 * The configured sampler, except that a CLIENT span with no parent (a MySQL query of a health
 * check or a gauge, outside any request, message or round) is not recorded: such calls would be
 * a trace each, every few seconds, about nothing. A round (a root linked to the messages it
 * carries) samples on its own, at the configured ratio: were it sampled whenever one of its
 * messages is, a round of 100 messages at 1 % would be sampled 63 % of the time, and sampling
 * would not lower the cost of the shared work (measured: docs/benchmarks/2026-12-03-tracing.md).
 */
function samplerOf(s: SamplerSettings): Sampler {
  const root = s.root === 'always_on' ? new AlwaysOnSampler() : s.root === 'always_off' ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(s.ratio);
  const configured = s.parentBased ? new ParentBasedSampler({ root }) : root;
  return {
    shouldSample(ctx: Context, traceId, name, kind, attributes, links) {
      if (kind === SpanKind.CLIENT && !trace.getSpanContext(ctx)) return { decision: SamplingDecision.NOT_RECORD };
      return configured.shouldSample(ctx, traceId, name, kind, attributes, links);
    },
    toString: () => `WithoutOrphanClientSpans{${configured.toString()}}`,
  };
}

/**
 * The first thing a process does (boot, before its connections): with tracing off by the OTEL_*
 * variables (the default), nothing is started, no SDK object exists and the pipeline's helpers
 * return at their first check. With it on: a tracer provider with the configured sampler, a batch
 * span processor per exporter, W3C trace context propagation, AsyncLocalStorage for the active span,
 * and the official mysql2 and ioredis instrumentations (drivers.ts). Nothing in a span carries a
 * message's content: statements are recorded without their values, commands by name.
 *
 * `processors` replaces the exporters (tests: an in-memory exporter behind a simple processor).
 */
export function startTelemetry(role: string, options: { env?: NodeJS.ProcessEnv; processors?: SpanProcessor[] } = {}): Telemetry {
  if (current) return current.telemetry;
  const settings = telemetrySettings(`im-${role}`, options.env);
  if (!settings.enabled) return { settings, shutdown: async () => {} };

  const exporters: SpanExporter[] = settings.exporters.map((e) =>
    e === 'console' ? new ConsoleSpanExporter() : settings.protocol === 'http/json' ? new OtlpHttpJson() : new OtlpHttpProtobuf(),
  );
  const resource = resourceFromAttributes({ 'service.name': settings.serviceName, 'service.namespace': 'im-message', 'im.role': role }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new TracerProvider({
    resource,
    sampler: samplerOf(settings.sampler),
    // A multi-row INSERT's statement is long; its placeholders say nothing past this.
    spanLimits: { attributeValueLengthLimit: 2048 },
    spanProcessors: options.processors ?? exporters.map((exporter) => new BatchSpanProcessor({ exporter, ...settings.batch })),
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  useTracer(provider.getTracer('im-message'));
  instrumentDrivers(provider);

  const telemetry: Telemetry = {
    settings,
    async shutdown() {
      useTracer(undefined);
      await provider.shutdown();
    },
  };
  current = { telemetry, provider };
  return telemetry;
}

/** Sends the SDK's warnings and export errors to the process's log. */
export function reportTelemetryTo(log: TelemetryLog): void {
  if (!current) return;
  let last = 0;
  const warn = (msg: string, args: unknown[]) => {
    const now = Date.now();
    if (now - last < 10_000) return; // an unreachable collector would fail every export
    last = now;
    log.warn({ detail: args.map(String).join(' ').slice(0, 500) }, `telemetry: ${msg}`);
  };
  diag.setLogger(
    { error: (m, ...a) => warn(m, a), warn: (m, ...a) => warn(m, a), info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  setGlobalErrorHandler((err) => warn('export failed', [err instanceof Error ? err.message : err]));
}
