import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startTelemetry } from './start';

export type { ReadableSpan };

/**
 * Tracing on in this process with every span kept in memory (an InMemorySpanExporter behind a
 * simple processor, so a span is there as soon as it ends): for unit tests of the helpers.
 */
export function inMemoryTracing(role = 'test', env: NodeJS.ProcessEnv = {}): { exporter: InMemorySpanExporter; spans(): ReadableSpan[] } {
  const exporter = new InMemorySpanExporter();
  startTelemetry(role, { env: { OTEL_TRACES_EXPORTER: 'console', ...env }, processors: [new SimpleSpanProcessor({ exporter })] });
  return { exporter, spans: () => exporter.getFinishedSpans() };
}
