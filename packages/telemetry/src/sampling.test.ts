import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind as Kind, trace } from '@opentelemetry/api';
import { inMemoryTracing } from './testing';
import { consumeHop, context, ROOT_CONTEXT } from './tracing';

// A sampler that samples no root span: a round is never sampled, a message follows its parent.
const memory = inMemoryTracing('test', { OTEL_TRACES_SAMPLER: 'parentbased_always_off' });
const sampled = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const unsampled = '00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-00';

describe('sampling of rounds, messages and parentless calls', () => {
  it('runs a round that is not sampled outside any span, and still traces the sampled messages it carries', () => {
    memory.exporter.reset();
    const hop = consumeHop('im.deliver', [{ id: 'a', data: { trace: { 1: sampled } } }, { id: 'b', data: { trace: { 2: unsampled } } }]);
    assert.equal(hop.round, ROOT_CONTEXT, 'its MySQL and Redis calls start no span at all');
    assert.ok(hop.of('1'), 'the sampled message has its consumer span');
    assert.equal(hop.of('2'), undefined, 'a message whose parent is not sampled gets no span to hand on');
    hop.end();
    assert.deepEqual(
      memory.spans().map((s) => [s.name, s.attributes['im.message_id']]),
      [['im.deliver process', '1']],
    );
  });

  it('records no CLIENT span without a parent (health checks, gauges), and does under a sampled one', () => {
    memory.exporter.reset();
    const tracer = trace.getTracer('probe');
    assert.equal(tracer.startSpan('SELECT', { kind: Kind.CLIENT }, ROOT_CONTEXT).isRecording(), false);
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
    const child = tracer.startSpan('SELECT', { kind: Kind.CLIENT }, parent);
    assert.equal(child.isRecording(), true);
    child.end();
    assert.equal(context.active(), ROOT_CONTEXT);
  });
});
