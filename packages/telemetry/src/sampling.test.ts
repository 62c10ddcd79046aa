import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind as Kind, trace } from '@opentelemetry/api';
import { inMemoryTracing } from './testing';
import { consumeHop, context, ROOT_CONTEXT } from './tracing';

// A sampler that samples no root span of its own: what is recorded is what the rules add.
const memory = inMemoryTracing('test', { OTEL_TRACES_SAMPLER: 'parentbased_always_off' });
const sampled = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const unsampled = '00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-00';

describe('sampling of rounds and parentless calls', () => {
  it('traces a round when a message it carries is sampled, and not otherwise', () => {
    memory.exporter.reset();
    const traced = consumeHop('im.deliver', [{ id: 'a', data: { trace: { 1: sampled } } }, { id: 'b', data: { trace: { 2: unsampled } } }]);
    assert.ok(trace.getSpan(traced.round)?.isRecording(), 'a round carrying a sampled message is sampled');
    assert.ok(traced.of('1'));
    assert.equal(traced.of('2'), undefined, 'an unsampled message gets no span');
    traced.end();
    const untraced = consumeHop('im.deliver', [{ id: 'c', data: { trace: { 3: unsampled } } }]);
    assert.equal(untraced.round, ROOT_CONTEXT, 'a round nobody samples runs outside any span');
    untraced.end();
    assert.deepEqual(memory.spans().map((s) => s.name).sort(), ['im.deliver process', 'im.deliver round']);
  });

  it('records no CLIENT span without a parent (health checks, gauges)', () => {
    memory.exporter.reset();
    const tracer = trace.getTracer('probe');
    assert.equal(tracer.startSpan('SELECT', { kind: Kind.CLIENT }, ROOT_CONTEXT).isRecording(), false);
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
    const child = tracer.startSpan('SELECT', { kind: Kind.CLIENT }, parent);
    assert.equal(child.isRecording(), true, 'under a sampled parent it is');
    child.end();
    assert.equal(context.active(), ROOT_CONTEXT);
  });
});
