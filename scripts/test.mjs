// npm test: dependencies, the local test stack (its own ports and data, apart from npm start's),
// the roles' bundles, then every test file with Node's test runner against real Redis and MariaDB,
// several files at once, while the type check runs beside them.
// npm run test:unit: only the unit tier, the tests beside the code under apps/ and packages/
// (plain functions with plain fakes; no stack, no type check), in seconds.
//
//   npm test [-- PATTERN...]        the files whose path contains a pattern
//   TEST_CONCURRENCY=N npm test     N files at once (default 4; 1 runs them one after another)
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { availableRoles, ensureBundles, ensureDeps, ROOT, say, shippedNode, stackDown, stackUp } from './lib.mjs';

const unit = process.argv[2] === '--unit';
const filter = process.argv.slice(unit ? 3 : 2);
const started = Date.now();

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(ROOT, path));
  }
  return out;
}

/**
 * The order files start in. The runner keeps N files going and starts the next as one ends, so
 * the whole run lasts about as long as its longest chain: the slowest files (real processes and
 * injected faults) go first, the quick tiers fill the gaps at the end. The files that take a
 * minute or more on two cores go before all others: started behind the cluster tier, they ended
 * the run half a minute after everything else.
 */
const LONGEST = new Set(['test/e2e/outage.test.ts', 'test/e2e/cli.test.ts', 'test/cluster/chat-classic.test.ts']);

function weight(file) {
  if (LONGEST.has(file)) return -1;
  if (file.startsWith('test/cluster/') || file.startsWith('test/faults/')) return 0;
  if (file.startsWith('test/e2e/')) return 1;
  if (file.startsWith('test/integration/')) return 2;
  return 3;
}

const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

ensureDeps();
if (unit) {
  const files = ['packages', 'apps'].flatMap((d) => findTests(join(ROOT, d))).filter((f) => filter.length === 0 || filter.some((p) => f.includes(p))).sort();
  say(`unit tier: ${files.length} test files`);
  const r = spawnSync(shippedNode(), ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { cwd: ROOT, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

/** The type check, in the background: it needs no stack and only its verdict matters at the end. */
function typeCheck() {
  return new Promise((resolve) => {
    const out = [];
    const tsc = spawn(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', ROOT], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    tsc.stdout.on('data', (c) => out.push(c));
    tsc.stderr.on('data', (c) => out.push(c));
    tsc.on('exit', (code) => resolve({ ok: code === 0, output: Buffer.concat(out).toString() }));
  });
}

const concurrency = Math.max(1, Number(process.env.TEST_CONCURRENCY ?? 4) || 4);
const stack = stackUp('test');
let status = 1;
try {
  const typed = typeCheck();
  // Every file's fleet runs the roles' bundles; building them once here keeps concurrent files
  // from rebuilding the same files at once.
  await ensureBundles([...availableRoles(), 'cli']);

  const files = ['packages', 'apps', 'test']
    .flatMap((d) => findTests(join(ROOT, d)))
    .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)))
    .sort((a, b) => weight(a) - weight(b) || a.localeCompare(b));
  say(`running ${files.length} test files, ${concurrency} at a time (type check beside them)`);
  const env = { ...process.env, ...stack.env };
  for (const k of Object.keys(env)) if (k.startsWith('IM_')) delete env[k];
  // The fleet under test runs on one Redis server; the suites under test/cluster run the
  // end-to-end suites again on the local Redis Cluster, which they find here.
  delete env.REDIS_CLUSTER_NODES;
  // Every test file and every role process of their fleets (a few hundred in a run) loads the same
  // modules: Node's on-disk compile cache spares each one compiling them again (about a tenth of
  // an ingest-api's start). Node versions without it ignore the variable.
  env.NODE_COMPILE_CACHE ??= join(ROOT, 'node_modules', '.cache', 'node-compile');
  if (stack.env.REDIS_CLUSTER_NODES) env.TEST_REDIS_CLUSTER_NODES = stack.env.REDIS_CLUSTER_NODES;
  else say('no Redis Cluster (set REDIS_CLUSTER_NODES with REDIS_URL and MYSQL_URL): the suites under test/cluster skip');
  const r = await new Promise((resolve) => {
    // --test-force-exit: a file whose tests are done ends even if a connection of a failed
    // before-hook is still open; --test-timeout: a test that hangs fails after 10 minutes
    // instead of holding the run until CI's limit.
    const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-force-exit', '--test-timeout=600000', '--test-reporter=spec', ...files];
    const node = shippedNode();
    say(`Node.js ${spawnSync(node, ['-v'], { encoding: 'utf8' }).stdout.trim()} (the version the image ships)`);
    const child = spawn(node, args, { cwd: ROOT, env, stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
  const tsc = await typed;
  if (!tsc.ok) {
    process.stderr.write(tsc.output);
    say('type check failed');
  }
  status = r === 0 && tsc.ok ? 0 : 1;
  say(`${status === 0 ? 'passed' : 'FAILED'} in ${seconds()} (type check ${tsc.ok ? 'clean' : 'failed'})`);
} catch (err) {
  say(err.message);
} finally {
  if (stack.started) stackDown('test');
}
process.exit(status);
