// npm test: dependencies, the local test stack (its own ports and data, apart from npm start's),
// type check, then every test file with Node's test runner against real Redis and MariaDB.
// npm run test:unit: only the unit tier, the tests beside the code under apps/ and packages/
// (plain functions with plain fakes; no stack, no type check), in seconds.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureDeps, ROOT, say, stackDown, stackUp } from './lib.mjs';

const unit = process.argv[2] === '--unit';
const filter = process.argv.slice(unit ? 3 : 2);

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(ROOT, path));
  }
  return out;
}

ensureDeps();
if (unit) {
  const files = ['packages', 'apps'].flatMap((d) => findTests(join(ROOT, d))).filter((f) => filter.length === 0 || filter.some((p) => f.includes(p))).sort();
  say(`unit tier: ${files.length} test files`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { cwd: ROOT, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const stack = stackUp('test');
let status = 1;
try {
  say('type check (tsc)');
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', ROOT], { cwd: ROOT, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('type check failed');

  const files = ['packages', 'apps', 'test']
    .flatMap((d) => findTests(join(ROOT, d)))
    .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)))
    .sort();
  say(`running ${files.length} test files`);
  const env = { ...process.env, ...stack.env };
  for (const k of Object.keys(env)) if (k.startsWith('IM_')) delete env[k];
  // The fleet under test runs on one Redis server; the suites under test/cluster run the
  // end-to-end suites again on the local Redis Cluster, which they find here.
  delete env.REDIS_CLUSTER_NODES;
  if (stack.env.REDIS_CLUSTER_NODES) env.TEST_REDIS_CLUSTER_NODES = stack.env.REDIS_CLUSTER_NODES;
  else say('no Redis Cluster (set REDIS_CLUSTER_NODES with REDIS_URL and MYSQL_URL): the suites under test/cluster skip');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
  });
  status = r.status ?? 1;
} catch (err) {
  say(err.message);
} finally {
  if (stack.started) stackDown('test');
}
process.exit(status);
