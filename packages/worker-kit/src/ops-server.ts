import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { AppError, DEFAULT_RETRY_AFTER_S, invalidArgument, notFound } from '@im/errors';
import { OPS_PATHS, type ProcessHealth } from './health';

/**
 * /health, /ready, /health/dependencies and /metrics on a port of their own: every worker's ops
 * surface, and ingest-api's when metrics.port sets one (then its API port, which a Kubernetes
 * Service exposes, keeps /health and /ready only).
 */
export async function startOpsServer(options: { host: string; port: number; registry: Registry; health: ProcessHealth }): Promise<Server> {
  const { health, registry } = options;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json') => {
      // A 503 says when to ask again, as every 503 of the contract does.
      res.writeHead(status, { 'content-type': type, ...(status === 503 ? { 'retry-after': String(DEFAULT_RETRY_AFTER_S) } : {}) });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, JSON.stringify({ error: invalidArgument('only GET is served here', 'METHOD_NOT_ALLOWED') }));
    if (path === OPS_PATHS.health) return send(200, JSON.stringify({ status: 'ok' }));
    if (path === OPS_PATHS.ready) {
      const r = health.readiness();
      return send(r.ready ? 200 : 503, JSON.stringify(r.body));
    }
    if (path === OPS_PATHS.dependencies) {
      void health.dependencies().then((d) => send(d.ok ? 200 : 503, JSON.stringify(d.body)));
      return;
    }
    if (path === OPS_PATHS.metrics) {
      void registry.metrics().then(
        (text) => send(200, text, registry.contentType),
        (err: Error) => send(500, JSON.stringify({ error: new AppError('INTERNAL', err.message, { reason: 'INTERNAL_ERROR' }) })),
      );
      return;
    }
    send(404, JSON.stringify({ error: notFound('UNKNOWN_ROUTE', `no route ${path}; try ${Object.values(OPS_PATHS).join(', ')}`) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
