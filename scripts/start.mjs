// npm start: dependencies, local stack, migrations, then one process of every role, restarted if it dies.
// Ctrl-C stops the fleet, then the local stack this command started.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { availableRoles, bundleNode, ensureBundles, ensureDeps, ROOT, runTs, say, stackDown, stackUp } from './lib.mjs';

const CONFIG = join(ROOT, 'conf', 'im-message.ini');
const COLORS = { 'ingest-api': 36, 'worker-persist': 33, 'worker-fanout': 35, 'worker-delivery': 32, 'worker-cleaner': 34, 'worker-push': 31 };

// npm start -- --redis-cluster: the fleet on a local Redis Cluster (3 primaries, 3 replicas),
// in three shards. Pub/Sub stays the contract's default, classic (PUBLISH/SUBSCRIBE, what gateways
// that SUBSCRIBE need), unless IM_QUEUE_PUBSUB says sharded (SPUBLISH/SSUBSCRIBE).
const onCluster = process.argv.includes('--redis-cluster');
if (onCluster) process.env.STACK_REDIS_CLUSTER = '1';

ensureDeps();
// The fleet runs its bundles (plain node, no TypeScript loader), rebuilt when older than the sources.
await ensureBundles();
const stack = stackUp('dev');
if (onCluster && !stack.env.REDIS_CLUSTER_NODES) {
  say('--redis-cluster: no cluster came up (REDIS_URL/MYSQL_URL given without REDIS_CLUSTER_NODES?)');
  process.exit(1);
}

function apiToken() {
  if (process.env.IM_API_TOKENS) return process.env.IM_API_TOKENS.split(',')[0].trim();
  const file = join(ROOT, '.stack', 'dev', 'api-token');
  if (!existsSync(file)) {
    mkdirSync(join(ROOT, '.stack', 'dev'), { recursive: true });
    writeFileSync(file, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}
const token = apiToken();
const env = { ...process.env, ...stack.env, IM_API_TOKENS: process.env.IM_API_TOKENS ?? token };
if (stack.env.REDIS_CLUSTER_NODES) env.IM_QUEUE_SHARDS ??= '3';
const pubsub = env.IM_QUEUE_PUBSUB ?? 'classic';
const port = process.env.IM_MESSAGE_SERVICE_PORT ?? '6000';
const dashboardPort = process.env.IM_DASHBOARD_PORT ?? '6002';

// Where the CLI looks when it is given no -c: this fleet's config with the stack's addresses and
// token, so `npm run cli -- queues` works beside npm start without exporting anything.
const cliConfig = join(ROOT, '.stack', 'dev', 'im-message.ini');
mkdirSync(join(ROOT, '.stack', 'dev'), { recursive: true });
writeFileSync(
  cliConfig,
  `${readFileSync(CONFIG, 'utf8')}
# Written by npm start for the command line (im-message): the local fleet's addresses and token.
[queue]
redis_url = ${env.REDIS_URL}
cluster_nodes = ${env.REDIS_CLUSTER_NODES ?? ''}
shards = ${env.IM_QUEUE_SHARDS ?? 1}
pubsub = ${pubsub}
[mysql]
url = ${env.MYSQL_URL}
[auth]
api_tokens = ${env.IM_API_TOKENS}
[message_service]
port = ${port}
[dashboard]
port = ${dashboardPort}
`,
  { mode: 0o600 },
);

say('applying migrations');
if (runTs([join(ROOT, 'packages/db/src/migrate.cli.ts'), '-c', CONFIG], env) !== 0) {
  say('migrations failed; stopping');
  if (stack.started) stackDown('dev');
  process.exit(1);
}

const children = new Map();
let stopping = false;

function prefixLines(stream, role, out) {
  const tag = `\x1b[${COLORS[role] ?? 37}m${role.padEnd(15)}\x1b[0m | `;
  createInterface({ input: stream }).on('line', (line) => out.write(tag + line + '\n'));
}

function launch(role, restarts = 0) {
  const child = bundleNode(role, ['-c', CONFIG], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const startedAt = Date.now();
  children.set(role, child);
  prefixLines(child.stdout, role, process.stdout);
  prefixLines(child.stderr, role, process.stderr);
  child.on('exit', (code, signal) => {
    children.delete(role);
    if (stopping) return;
    const next = Date.now() - startedAt > 60_000 ? 0 : restarts + 1;
    const delay = Math.min(500 * 2 ** next, 30_000);
    say(`${role} exited (${signal ?? code}); restarting in ${delay} ms`);
    setTimeout(() => !stopping && launch(role, next), delay);
  });
}

for (const role of availableRoles()) launch(role);

setTimeout(() => {
  say(`fleet running: ${availableRoles().join(', ')}`);
  say(`API:   http://127.0.0.1:${port}   (metrics of workers on 9101-9104)`);
  if (env.REDIS_CLUSTER_NODES) {
    say(`Redis Cluster: ${env.REDIS_CLUSTER_NODES} (${env.IM_QUEUE_SHARDS} shards)`);
    say(
      pubsub === 'sharded'
        ? 'Pub/Sub: sharded (SPUBLISH; gateways SSUBSCRIBE on the node of each channel\'s slot), from IM_QUEUE_PUBSUB'
        : 'Pub/Sub: classic, the default (PUBLISH; gateways SUBSCRIBE on any node); IM_QUEUE_PUBSUB=sharded for SPUBLISH/SSUBSCRIBE',
    );
  }
  say(`docs:  http://127.0.0.1:${dashboardPort}/docs     queues: http://127.0.0.1:${dashboardPort}/queues   (open these in a browser)`);
  say(`CLI:   npm run cli -- queues   (reads ${cliConfig.slice(ROOT.length + 1)}; no exports needed)`);
  say(`token: ${token}`);
  say(`try:   curl -s -X PUT http://127.0.0.1:${port}/v1/users/1 -H 'authorization: Bearer ${token}' -H 'content-type: application/json' -d '{"name":"alice"}'`);
  say('Ctrl-C stops everything');
}, 1500).unref();

async function stop(signal) {
  if (stopping) return;
  stopping = true;
  say(`${signal}: stopping the fleet`);
  const exits = [...children.values()].map((c) => new Promise((resolve) => c.once('exit', resolve)));
  for (const c of children.values()) c.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const c of children.values()) c.kill('SIGKILL');
  }, 35_000);
  await Promise.all(exits);
  clearTimeout(timer);
  if (stack.started) {
    say('stopping the local stack');
    stackDown('dev');
  }
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
