import type { FastifyInstance, FastifyRequest } from 'fastify';
import { endRequestSpan, startRequestSpan, tracingOn, withContext, type Context, type Span } from '@im/telemetry';
import { OPS_PATHS } from '@im/worker-kit';

/** Probes and scrapes (every few seconds, from the orchestrator and Prometheus) are not traced. */
const UNTRACED = new Set<string>(Object.values(OPS_PATHS));

/**
 * With tracing on, a SERVER span per HTTP request, named by its route (`POST /v1/messages`), the
 * child of the caller's trace when it sends a `traceparent` header. The route's handler runs in it
 * (preHandler: after the body is read, whose callbacks run outside any request's context), so the
 * admission and the persist job's producer span are its children. With tracing off nothing is
 * registered. The ops routes (/health, /ready, /metrics, ...) are not traced.
 */
export function requestSpans(app: FastifyInstance): void {
  if (!tracingOn()) return;
  const spans = new WeakMap<FastifyRequest, { span: Span; ctx: Context }>();
  app.addHook('onRequest', (req, _reply, done) => {
    const route = req.routeOptions.url;
    if (route !== undefined && UNTRACED.has(route)) return done();
    const started = startRequestSpan(`${req.method} ${route ?? 'unmatched'}`, req.headers, {
      'http.request.method': req.method,
      'url.path': req.url.split('?')[0]!,
      ...(route ? { 'http.route': route } : {}),
      'im.request_id': req.id,
    });
    if (started) spans.set(req, started);
    done();
  });
  app.addHook('preHandler', (req, _reply, done) => withContext(spans.get(req)?.ctx, done));
  app.addHook('onResponse', (req, reply, done) => {
    endRequestSpan(spans.get(req)?.span, { 'http.response.status_code': reply.statusCode }, reply.statusCode >= 500);
    spans.delete(req);
    done();
  });
}
