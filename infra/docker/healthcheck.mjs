// The image's HEALTHCHECK: GET /health on the port the entry point wrote for its role. A container
// that runs no server (migrate, cli) is healthy by definition. node:http, not fetch: fetch refuses
// ingest-api's default port 6000.
import { readFileSync } from 'node:fs';
import { get } from 'node:http';

let port;
try {
  port = readFileSync('/tmp/im-health-port', 'utf8').trim();
} catch {
  process.exit(0);
}
const req = get({ host: '127.0.0.1', port, path: '/health', timeout: 4000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1));
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
