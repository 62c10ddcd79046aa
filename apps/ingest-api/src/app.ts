import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { AppError, DEFAULT_RETRY_AFTER_S, invalidArgument, notFound, toAppError } from '@im/errors';
import { bearerAuth } from './auth';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import { OPS_PATHS, type ProcessHealth } from '@im/worker-kit';
import { messageRoutes } from './routes/messages.route';
import { offlineRoutes } from './routes/offline.route';
import { ackRoutes } from './routes/acks.route';
import { userRoutes } from './routes/users.route';
import { presenceRoutes } from './routes/presence.route';
import { notificationRoutes } from './routes/notifications.route';
import { groupRoutes } from './routes/groups.route';
import { readRoutes } from './routes/read.route';
import { pushRoutes } from './routes/push.route';
import { deviceRoutes } from './routes/devices.route';
import { docsRoutes, isDocsRoute, openApiDocument } from './openapi';
import { requestSpans } from './request-spans';
import type { Services } from './services';

export interface AppOptions {
  services: Services;
  tokens: readonly string[];
  metrics: Metrics;
  log: Logger;
  /** Readiness and dependency state of the process (/ready, /health/dependencies). */
  health: ProcessHealth;
  /**
   * Whether /metrics and /health/dependencies are served here too: yes unless the process has an
   * ops port of its own (metrics.port), which keeps them off the port a Service exposes.
   */
  opsRoutes: boolean;
  bodyLimit: number;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const ROUTES = new WeakMap<FastifyInstance, { method: string; url: string }[]>();

/** Every route registered on an app built by buildApp (the OpenAPI test holds them against the document). */
export function registeredRoutes(app: FastifyInstance): readonly { method: string; url: string }[] {
  return ROUTES.get(app) ?? [];
}
const PUBLIC_ROUTES = new Set<string>(Object.values(OPS_PATHS));
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The HTTP app, built without listening so tests send requests in process.
 * Errors everywhere leave as the contract's {"error": {code, message}}.
 */
export function buildApp(o: AppOptions): FastifyInstance {
  const authenticate = bearerAuth(o.tokens);
  const app = Fastify({
    loggerInstance: o.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.bodyLimit,
    routerOptions: { maxParamLength: 200 },
    // While closing, requests on kept-alive connections get the contract's 503 (hook below).
    return503OnClosing: false,
    // Requests the router cannot even take apart (bad percent-encoding, a path parameter over 200
    // characters) still get the contract's answer: 401 first without a token, else 400.
    frameworkErrors: (error, req, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      void reply.header('x-request-id', req.id);
      let answer: AppError;
      try {
        authenticate(req.headers.authorization);
        answer =
          error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? invalidArgument('a path parameter (user_id, group_id or message_id) is too long: ids are positive integers below 2^63', 'INVALID_PATH')
            : invalidArgument('the path is not valid (bad percent-encoding)', 'INVALID_PATH');
      } catch (err) {
        answer = err as AppError;
      }
      void reply.status(answer.status).send({ error: answer.toJSON() });
    },
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });

  const routes: { method: string; url: string }[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method: String(method), url: r.url });
  });

  // JSON bodies must be valid UTF-8: invalid bytes are refused, never replaced.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    const buf = body as Buffer;
    if (buf.length === 0) return done(null, undefined);
    let text: string;
    try {
      text = fatalUtf8.decode(buf);
    } catch {
      return done(invalidArgument('the body is not valid UTF-8', 'MALFORMED_BODY'));
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(invalidArgument(`the body is not valid JSON: ${(err as Error).message}`, 'MALFORMED_BODY'));
    }
  });

  // First, so that a request refused by the hooks below has its span too.
  requestSpans(app);

  // Everything needs the token but the three ops routes and the API docs, matched by route (not by
  // the raw URL, which may spell /v1 with percent-encoding); an unknown path answers 401 before 404.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (closing) {
      reply.header('connection', 'close');
      throw new AppError('UNAVAILABLE', 'this ingest-api process is shutting down; retry (another instance answers)', { reason: 'SHUTTING_DOWN' });
    }
    const route = req.routeOptions.url ?? '';
    if (!PUBLIC_ROUTES.has(route) && !isDocsRoute(route)) authenticate(req.headers.authorization);
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    o.metrics.httpDuration.observe({ route, method: req.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    const appErr = fromFastifyError(err) ?? toAppError(err);
    if (appErr.status >= 500) {
      o.metrics.errors.inc({ component: 'http', kind: appErr.code });
      req.log.error({ err, reqId: req.id, route: req.routeOptions.url }, 'request failed');
    }
    // Every 429 and 503 says when to try again (a 503 by default after 1 s); the body says it too.
    if (appErr.retryAfterS !== undefined) reply.header('retry-after', String(appErr.retryAfterS));
    void reply.status(appErr.status).send({ error: appErr.toJSON() });
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error: notFound('UNKNOWN_ROUTE', `no route ${req.method} ${req.url.split('?')[0]}`).toJSON() });
  });

  app.get(OPS_PATHS.health, async () => ({ status: 'ok' }));
  app.get(OPS_PATHS.ready, async (_req, reply) => {
    const r = o.health.readiness();
    if (!r.ready) void reply.header('retry-after', String(DEFAULT_RETRY_AFTER_S));
    return reply.status(r.ready ? 200 : 503).send(r.body);
  });
  if (o.opsRoutes) {
    app.get(OPS_PATHS.dependencies, async (_req, reply) => {
      const d = await o.health.dependencies();
      if (!d.ok) void reply.header('retry-after', String(DEFAULT_RETRY_AFTER_S));
      return reply.status(d.ok ? 200 : 503).send(d.body);
    });
    app.get(OPS_PATHS.metrics, async (_req, reply) => {
      const text = await o.metrics.registry.metrics();
      return reply.type(o.metrics.registry.contentType).send(text);
    });
  }

  void app.register(docsRoutes(openApiDocument()));
  void app.register(messageRoutes(o.services));
  void app.register(offlineRoutes(o.services));
  void app.register(ackRoutes(o.services));
  void app.register(userRoutes(o.services));
  void app.register(presenceRoutes(o.services));
  void app.register(notificationRoutes(o.services));
  void app.register(groupRoutes(o.services));
  void app.register(readRoutes(o.services));
  void app.register(pushRoutes(o.services));
  void app.register(deviceRoutes(o.services));
  return app;
}

/** Fastify's own 4xx errors (body too large, wrong content type, ...) in the contract's terms. */
function fromFastifyError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (typeof e.statusCode !== 'number' || e.statusCode >= 500) return undefined;
  if (e.statusCode === 413) return new AppError('PAYLOAD_TOO_LARGE', 'the body is over the configured limit (message_service.max_body_bytes)', { reason: 'PAYLOAD_TOO_LARGE' });
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return invalidArgument('send the body as Content-Type: application/json', 'UNSUPPORTED_MEDIA_TYPE');
  if (e.statusCode === 404) return notFound('UNKNOWN_ROUTE', e.message ?? 'not found');
  // The rest are about the body Fastify could not take (empty JSON body, bad encoding, ...).
  return invalidArgument(e.message ?? 'bad request', 'MALFORMED_BODY');
}
