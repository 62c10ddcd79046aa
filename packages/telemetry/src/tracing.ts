import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import type { TraceCarriers } from '@im/contracts';

export { context, ROOT_CONTEXT, SpanKind, trace, type Context, type Span };

/**
 * The process's tracer while tracing is on (startTelemetry), else undefined: every helper below
 * checks it first and does nothing more, so with tracing off the hot path pays one comparison.
 */
let tracer: Tracer | undefined;

export function tracingOn(): boolean {
  return tracer !== undefined;
}

/** Installs (or, with undefined, removes) the tracer the helpers use: startTelemetry, and tests. */
export function useTracer(t: Tracer | undefined): void {
  tracer = t;
}

export type { TraceCarriers };

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The traceparent of the span active in ctx, if it is a valid, sampled one. */
export function traceparentOf(ctx: Context): string | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !trace.isSpanContextValid(sc) || !(sc.traceFlags & TraceFlags.SAMPLED)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The remote span context a traceparent names, or undefined for anything else (garbage in a job is ignored, never fatal). */
export function spanContextOf(traceparent: unknown): SpanContext | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const m = TRACEPARENT.exec(traceparent);
  if (!m) return undefined;
  const sc: SpanContext = { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true };
  return trace.isSpanContextValid(sc) ? sc : undefined;
}

/** The trace carriers of a job's raw data, leniently: only well-formed entries. */
export function carriersOf(data: unknown): [messageId: string, parent: SpanContext][] {
  const t = (data as { trace?: unknown } | null | undefined)?.trace;
  if (t === null || typeof t !== 'object') return [];
  const out: [string, SpanContext][] = [];
  for (const [id, tp] of Object.entries(t as Record<string, unknown>)) {
    const sc = spanContextOf(tp);
    if (sc) out.push([id, sc]);
  }
  return out;
}

function finish(span: Span, err: unknown): void {
  if (err !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    if (err instanceof Error) span.recordException(err);
  }
  span.end();
}

/** Spans of one step for each traced message: their contexts, their carriers for a job, and their end. */
export interface MessageSpans {
  /** The context of a message's span (for its child spans), undefined when the message is not traced. */
  of(messageId: string): Context | undefined;
  /** W3C traceparent per traced message, for the data of the job this step adds; undefined when none is traced. */
  readonly carriers: TraceCarriers | undefined;
  /** Ends every span; with an error, marked failed. */
  end(err?: unknown): void;
}

/** What a handler gets of its stage's message spans: each traced message's context. */
export type MessageTraces = Pick<MessageSpans, 'of'>;

const NO_SPANS: MessageSpans = { of: () => undefined, carriers: undefined, end: () => {} };

/**
 * One span per traced message, each a child of the message's context in the step before
 * (`parentOf`); messages without one (not traced, or tracing off) get none. One message, one trace:
 * this is how every hop of the pipeline joins the trace its send started.
 */
export function messageSpans(
  name: string,
  kind: SpanKind,
  messageIds: Iterable<string>,
  parentOf: ((messageId: string) => Context | undefined) | undefined,
  attributes: Attributes = {},
  links: Link[] = [],
): MessageSpans {
  if (!tracer || !parentOf) return NO_SPANS;
  const spans = new Map<string, { span: Span; ctx: Context }>();
  for (const id of messageIds) {
    if (spans.has(id)) continue;
    const parent = parentOf(id);
    if (!parent || !trace.getSpanContext(parent)) continue;
    const span = tracer.startSpan(name, { kind, attributes: { ...attributes, 'im.message_id': id }, links }, parent);
    // Not sampled: nothing to record, and nothing to hand on.
    if (span.isRecording()) spans.set(id, { span, ctx: trace.setSpan(parent, span) });
  }
  if (spans.size === 0) return NO_SPANS;
  let carriers: TraceCarriers | undefined;
  for (const [id, { ctx }] of spans) {
    const tp = traceparentOf(ctx);
    if (tp) (carriers ??= {})[id] = tp;
  }
  return {
    of: (id) => spans.get(id)?.ctx,
    carriers,
    end: (err) => {
      for (const { span } of spans.values()) finish(span, err);
    },
  };
}

/** The producer spans of a queue hop: one per traced message, their carriers go into the job's data. */
export function produceHop(queue: string, messageIds: Iterable<string>, parentOf: ((messageId: string) => Context | undefined) | undefined): MessageSpans {
  if (!tracer || !parentOf) return NO_SPANS;
  return messageSpans(`${queue} send`, SpanKind.PRODUCER, messageIds, parentOf, { 'messaging.system': 'bullmq', 'messaging.operation.type': 'send', 'messaging.destination.name': queue });
}

/** A job of a round as the consumer sees it: its id and its raw data (whose `trace` holds the carriers). */
export interface TracedJob {
  id?: string | undefined;
  data: unknown;
}

/** What a consumer of a queue hop gets: the round's context and each message's consumer span. */
export interface ConsumedHop extends MessageSpans {
  /** The context to run the round's work in: its own span (a new trace, linked to every message's), or the active one when tracing is off. */
  readonly round: Context;
}

/**
 * The consumer side of a queue hop, for the jobs taken together: per traced message a consumer
 * span, the child of its producer span: one message, one trace. Jobs taken in rounds (`round`,
 * the batch worker) get a round span too, the root of a trace of its own with a link to each
 * message's producer span; the round's shared work (its MySQL and Redis calls) runs in it, and
 * each message's consumer span links back to it. A job taken alone runs in its message's span.
 */
export function consumeHop(queue: string, jobs: readonly TracedJob[], round = true): ConsumedHop {
  if (!tracer) return { ...NO_SPANS, round: context.active() };
  const parents = new Map<string, SpanContext>();
  for (const job of jobs) for (const [id, sc] of carriersOf(job.data)) parents.set(id, sc);
  const attributes = { 'messaging.system': 'bullmq', 'messaging.operation.type': 'process', 'messaging.destination.name': queue };
  const roundSpan = round
    ? tracer.startSpan(
        `${queue} round`,
        { kind: SpanKind.CONSUMER, root: true, links: [...parents.values()].map((sc) => ({ context: sc })), attributes: { ...attributes, 'messaging.batch.message_count': jobs.length } },
        ROOT_CONTEXT,
      )
    : undefined;
  const messages = messageSpans(
    `${queue} process`,
    SpanKind.CONSUMER,
    parents.keys(),
    (id) => trace.setSpanContext(ROOT_CONTEXT, parents.get(id)!),
    jobs.length === 1 && jobs[0]!.id !== undefined ? { ...attributes, 'messaging.message.id': jobs[0]!.id } : attributes,
    roundSpan ? [{ context: roundSpan.spanContext() }] : [],
  );
  const alone = parents.size === 1 ? messages.of(parents.keys().next().value!) : undefined;
  return {
    // A round not sampled runs outside any span: its MySQL and Redis calls are then not even started as spans.
    round: roundSpan ? (roundSpan.isRecording() ? trace.setSpan(ROOT_CONTEXT, roundSpan) : ROOT_CONTEXT) : (alone ?? context.active()),
    of: messages.of,
    carriers: messages.carriers,
    end: (err) => {
      messages.end(err);
      if (roundSpan) finish(roundSpan, err);
    },
  };
}

/**
 * A span of its own (a new trace) for a batch of work gathered from many callers, linked to each
 * caller's span: fn runs in its context. With tracing off, fn just runs.
 */
export async function inRound<T>(name: string, callers: readonly (Context | undefined)[], fn: () => Promise<T>, attributes: Attributes = {}): Promise<T> {
  if (!tracer) return fn();
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const c of callers) {
    const sc = c && trace.getSpanContext(c);
    if (!sc || seen.has(sc.spanId)) continue;
    seen.add(sc.spanId);
    links.push({ context: sc });
  }
  const span = tracer.startSpan(name, { root: true, links, attributes: { ...attributes, 'im.batch.size': callers.length } }, ROOT_CONTEXT);
  try {
    const r = await context.with(span.isRecording() ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT, fn);
    finish(span, undefined);
    return r;
  } catch (err) {
    finish(span, err);
    throw err;
  }
}

/**
 * A span around fn, a child of the active context (or `parent`), with fn running in it. With
 * tracing off, fn just runs.
 */
export async function inSpan<T>(name: string, kind: SpanKind, attributes: Attributes, fn: (span: Span | undefined) => Promise<T>, parent?: Context): Promise<T> {
  if (!tracer) return fn(undefined);
  const ctx = parent ?? context.active();
  const span = tracer.startSpan(name, { kind, attributes }, ctx);
  try {
    const r = await context.with(trace.setSpan(ctx, span), () => fn(span));
    finish(span, undefined);
    return r;
  } catch (err) {
    finish(span, err);
    throw err;
  }
}

/** Starts a span (child of `parent`) the caller ends; undefined with tracing off. */
export function startSpan(name: string, kind: SpanKind, attributes: Attributes, parent: Context): Span | undefined {
  return tracer?.startSpan(name, { kind, attributes }, parent);
}

/** Ends a span started with startSpan; with an error, marked failed. */
export function endSpan(span: Span | undefined, err?: unknown): void {
  if (span) finish(span, err);
}

/** The active context while tracing is on (what a batcher keeps of each caller), else undefined. */
export function activeContext(): Context | undefined {
  return tracer ? context.active() : undefined;
}

/** Runs fn in ctx (when given and tracing is on). */
export function withContext<T>(ctx: Context | undefined, fn: () => T): T {
  return tracer && ctx ? context.with(ctx, fn) : fn();
}

/** Fields of a log line for the active span: trace_id and span_id (pino mixin). */
export function logFields(): { trace_id?: string; span_id?: string } {
  const sc = trace.getSpanContext(context.active());
  return sc && trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

/**
 * The span of a request served (HTTP or gRPC), the child of the caller's trace when the request
 * carries a W3C traceparent (`carrier`: its headers or metadata), else the root of a new trace.
 * Undefined with tracing off.
 */
export function startRequestSpan(name: string, carrier: Record<string, unknown>, attributes: Attributes): { span: Span; ctx: Context } | undefined {
  if (!tracer) return undefined;
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  return { span, ctx: trace.setSpan(parent, span) };
}

/** Ends a request's span with its outcome: failed when `failed` (a 5xx, an INTERNAL status). */
export function endRequestSpan(span: Span | undefined, attributes: Attributes, failed: boolean, message?: string): void {
  if (!span) return;
  span.setAttributes(attributes);
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
  span.end();
}

/** Ends `spans` when `work` settles (failed if it fails); resolves to what it resolves to. */
export async function during<T>(spans: MessageSpans, work: Promise<T>): Promise<T> {
  try {
    const r = await work;
    spans.end();
    return r;
  } catch (err) {
    spans.end(err);
    throw err;
  }
}
