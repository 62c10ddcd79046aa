import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { telemetrySettings, TelemetryConfigError } from './settings';
import { startTelemetry } from './start';
import { consumeHop, produceHop, tracingOn } from './tracing';

describe('telemetrySettings (the OTEL_* variables)', () => {
  it('is off with nothing set, and then nothing starts: no tracer, no SDK, helpers that do nothing', () => {
    assert.deepEqual(telemetrySettings('im-x', {}), { enabled: false, reason: 'no trace exporter configured (OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_ENDPOINT)' });
    const t = startTelemetry('x', { env: {} });
    assert.equal(t.settings.enabled, false);
    assert.equal(tracingOn(), false);
    // The API's global provider is still its no-op: a span started through it records nothing.
    assert.equal(trace.getTracer('probe').startSpan('probe').isRecording(), false);
    const hop = produceHop('im.persist', ['1'], () => undefined);
    assert.equal(hop.carriers, undefined);
    assert.equal(consumeHop('im.persist', [{ id: 'b1', data: { trace: { '1': '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } } }]).of('1'), undefined);
  });

  it('turns on with an OTLP endpoint or an exporter, and OTEL_SDK_DISABLED wins over both', () => {
    const on = telemetrySettings('im-x', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
    assert.ok(on.enabled);
    assert.deepEqual(on.exporters, ['otlp']);
    assert.equal(on.protocol, 'http/protobuf');
    assert.equal(on.serviceName, 'im-x');
    assert.deepEqual(on.sampler, { root: 'always_on', parentBased: true, ratio: 1 });
    const named = telemetrySettings('im-x', { OTEL_TRACES_EXPORTER: 'otlp,console', OTEL_SERVICE_NAME: 'chat', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25', OTEL_BSP_SCHEDULE_DELAY: '200' });
    assert.ok(named.enabled);
    assert.deepEqual(named.exporters, ['otlp', 'console']);
    assert.equal(named.serviceName, 'chat');
    assert.equal(named.protocol, 'http/json');
    assert.deepEqual(named.sampler, { root: 'traceidratio', parentBased: true, ratio: 0.25 });
    assert.deepEqual(named.batch, { scheduledDelayMillis: 200 });
    assert.equal(telemetrySettings('im-x', { OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).enabled, false);
    assert.equal(telemetrySettings('im-x', { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).enabled, false);
  });

  it('refuses what it cannot honour, naming the variable', () => {
    const bad: [NodeJS.ProcessEnv, RegExp][] = [
      [{ OTEL_TRACES_EXPORTER: 'jaeger' }, /OTEL_TRACES_EXPORTER="jaeger": "jaeger" is not supported/],
      [{ OTEL_TRACES_EXPORTER: 'none,otlp' }, /"none" cannot be combined/],
      [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /OTEL_EXPORTER_OTLP_PROTOCOL="grpc": only http\/protobuf and http\/json/],
      [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'sometimes' }, /OTEL_TRACES_SAMPLER="sometimes" is not supported/],
      [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }, /OTEL_TRACES_SAMPLER_ARG="2" must be a ratio/],
      [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_MAX_QUEUE_SIZE: '0' }, /OTEL_BSP_MAX_QUEUE_SIZE="0" must be a whole number above 0/],
    ];
    for (const [env, message] of bad) assert.throws(() => telemetrySettings('im-x', env), (err: unknown) => err instanceof TelemetryConfigError && message.test(err.message));
  });
});
