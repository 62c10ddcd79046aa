import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { SpanKind as Kind } from '@opentelemetry/api';
import { createLogger } from '@im/logger';
import { inMemoryTracing } from './testing';
import { consumeHop, context, during, inRound, inSpan, logFields, messageSpans, produceHop, ROOT_CONTEXT, SpanKind, trace, traceparentOf } from './tracing';

const memory = inMemoryTracing();
const byName = (name: string) => memory.spans().filter((s) => s.name === name);

describe('message spans across a queue hop (in-memory exporter)', () => {
  it('links the producer of each message to its consumer span, and a round to every message', async () => {
    memory.exporter.reset();
    // Two sends of two traces, batched into one job.
    const a = await inSpan('POST a', SpanKind.SERVER, {}, async () => context.active());
    const b = await inSpan('POST b', SpanKind.SERVER, {}, async () => context.active());
    const parents = new Map([['1', a], ['2', b]]);
    const hop = produceHop('im.persist', ['1', '2', '3'], (id) => parents.get(id));
    assert.deepEqual(Object.keys(hop.carriers ?? {}).sort(), ['1', '2'], 'a message without a trace gets no carrier');
    hop.end();
    const job = { id: 'b1', data: { messages: [], trace: hop.carriers } };

    const consumed = consumeHop('im.persist', [job]);
    const after = messageSpans('PUBLISH', Kind.PRODUCER, ['1', '2'], consumed.of);
    after.end();
    consumed.end();

    const [sendA, sendB] = ['1', '2'].map((id) => byName('im.persist send').find((s) => s.attributes['im.message_id'] === id)!);
    assert.equal(sendA!.spanContext().traceId, trace.getSpanContext(a)!.traceId);
    assert.equal(sendA!.parentSpanContext?.spanId, trace.getSpanContext(a)!.spanId);
    assert.equal(sendA!.kind, Kind.PRODUCER);
    const processA = byName('im.persist process').find((s) => s.attributes['im.message_id'] === '1')!;
    assert.equal(processA.parentSpanContext?.spanId, sendA!.spanContext().spanId, 'the consumer span is the child of the producer span');
    assert.equal(processA.kind, Kind.CONSUMER);
    const [round] = byName('im.persist round');
    assert.ok(round);
    assert.equal(round.parentSpanContext, undefined, 'the round is a root');
    assert.deepEqual(round.links.map((l) => l.context.spanId).sort(), [sendA!.spanContext().spanId, sendB!.spanContext().spanId].sort());
    assert.deepEqual(processA.links.map((l) => l.context.spanId), [round.spanContext().spanId]);
    const publishA = byName('PUBLISH').find((s) => s.attributes['im.message_id'] === '1')!;
    assert.equal(publishA.parentSpanContext?.spanId, processA.spanContext().spanId);
    assert.equal(publishA.spanContext().traceId, trace.getSpanContext(a)!.traceId, 'one message, one trace');
  });

  it('runs a job taken alone in its message span, with no round', async () => {
    memory.exporter.reset();
    const parent = await inSpan('POST', SpanKind.SERVER, {}, async () => context.active());
    const hop = produceHop('im.fanout', ['7'], () => parent);
    hop.end();
    const consumed = consumeHop('im.fanout', [{ id: 'g7', data: { trace: hop.carriers } }], false);
    assert.equal(trace.getSpanContext(consumed.round)?.spanId, trace.getSpanContext(consumed.of('7')!)?.spanId);
    consumed.end();
    assert.equal(byName('im.fanout round').length, 0);
    assert.equal(byName('im.fanout process')[0]!.attributes['messaging.message.id'], 'g7');
  });

  it('ignores trace carriers it cannot read, and fails a span with the error it ended on', async () => {
    memory.exporter.reset();
    for (const data of [{ trace: 'x' }, { trace: { 1: 'not-a-traceparent', 2: 42 } }, { trace: { 3: '00-00000000000000000000000000000000-0000000000000000-01' } }, null]) {
      const c = consumeHop('im.deliver', [{ id: 'j', data }]);
      assert.equal(c.of('1') ?? c.of('2') ?? c.of('3'), undefined);
      c.end();
    }
    assert.ok(byName('im.deliver round').every((r) => r.links.length === 0));
    const parent = await inSpan('POST', SpanKind.SERVER, {}, async () => context.active());
    await assert.rejects(during(messageSpans('offline rows', Kind.CLIENT, ['5'], () => parent), Promise.reject(new Error('mysql gone'))), /mysql gone/);
    const failed = byName('offline rows')[0]!;
    assert.equal(failed.status.code, 2);
    assert.equal(failed.status.message, 'mysql gone');
  });

  it('gives a batch of many callers a root span linked to each of them, and the callers a traceparent', async () => {
    memory.exporter.reset();
    const callers = await Promise.all([1, 2, 2].map((n) => inSpan(`caller ${n}`, SpanKind.INTERNAL, {}, async () => context.active())));
    callers[2] = callers[1]!;
    const inside = await inRound('admit batch', callers, async () => trace.getSpanContext(context.active())!.spanId);
    const [batch] = byName('admit batch');
    assert.equal(batch!.spanContext().spanId, inside, 'the batch runs in its span');
    assert.equal(batch!.links.length, 2, 'one link per distinct caller');
    assert.match(traceparentOf(callers[0]!)!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(traceparentOf(ROOT_CONTEXT), undefined);
  });

  it('puts the active span into every log line (pino mixin)', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const log = createLogger('test', 'info', sink, logFields);
    log.info('outside');
    const spanId = await inSpan('work', SpanKind.INTERNAL, {}, async (span) => {
      log.info('inside');
      return span!.spanContext();
    });
    const [outside, inside] = lines.map((l) => JSON.parse(l));
    assert.equal(outside.trace_id, undefined);
    assert.equal(inside.trace_id, spanId.traceId);
    assert.equal(inside.span_id, spanId.spanId);
  });
});
