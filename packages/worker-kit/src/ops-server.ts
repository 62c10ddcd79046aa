import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
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
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message: 'only GET is served here' } }));
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
        (err: Error) => send(500, JSON.stringify({ error: { code: 'INTERNAL', message: err.message } })),
      );
      return;
    }
    send(404, JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route ${path}; try ${Object.values(OPS_PATHS).join(', ')}` } }));
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
