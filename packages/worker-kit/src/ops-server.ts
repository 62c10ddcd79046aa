import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export type ReadinessChecks = Record<string, () => Promise<unknown>>;

/** The readiness of a process that needs Redis and MySQL: both must answer. */
export function backingServiceChecks(redis: { ping(): Promise<unknown> }, pool: { query(sql: string): Promise<unknown> }): ReadinessChecks {
  return { redis: () => redis.ping(), mysql: () => pool.query('SELECT 1') };
}

/** Runs every check with a time limit; returns the names of those that failed. */
export async function checkReadiness(checks: ReadinessChecks, timeoutMs = 2000): Promise<{ ok: boolean; failed: string[] }> {
  const names = Object.keys(checks);
  const results = await Promise.all(
    names.map(async (name) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          checks[name]!(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
          }),
        ]);
        return undefined;
      } catch {
        return name;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const failed = results.filter((n): n is string => n !== undefined);
  return { ok: failed.length === 0, failed };
}

/** /health, /ready and /metrics on a port of their own (the workers' ops surface). */
export async function startOpsServer(options: { host: string; port: number; registry: Registry; checks: ReadinessChecks }): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message: 'only GET is served here' } }));
    if (path === '/health') return send(200, JSON.stringify({ status: 'ok' }));
    if (path === '/ready') {
      void checkReadiness(options.checks).then(({ ok, failed }) =>
        send(ok ? 200 : 503, JSON.stringify(ok ? { status: 'ready' } : { status: 'unavailable', failed })),
      );
      return;
    }
    if (path === '/metrics') {
      void options.registry.metrics().then(
        (text) => send(200, text, options.registry.contentType),
        (err: Error) => send(500, JSON.stringify({ error: { code: 'INTERNAL', message: err.message } })),
      );
      return;
    }
    send(404, JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route ${path}; try /health, /ready or /metrics` } }));
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
