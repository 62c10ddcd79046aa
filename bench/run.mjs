// npm run bench [-- read-side | cleaner | storage | hot-history | rounds | tracing | devices | hooks] [options]: starts the local test stack (unless
// REDIS_URL/MYSQL_URL are set) and runs the fleet load (default), the read-side query measurement,
// the cleaner on a large table, message_history's storage compressed and not, or the fleet with
// tracing off and on side by side (bench/tracing.ts), or what a message costs per device model (bench/devices.ts).
import { join } from 'node:path';
import { ensureDeps, ROOT, runTs, stackDown, stackUp } from '../scripts/lib.mjs';

ensureDeps();
const stack = stackUp('test');
const args = process.argv.slice(2);
const named = { 'read-side': 'bench/read-side.ts', cleaner: 'bench/cleaner.ts', storage: 'bench/storage.ts', 'hot-history': 'bench/hot-history.ts', rounds: 'bench/rounds.ts', tracing: 'bench/tracing.ts', devices: 'bench/devices.ts', hooks: 'bench/hooks.ts' };
const script = named[args[0]] ?? 'bench/fleet.ts';
// The fleet under test runs on one Redis server unless --redis-cluster asks for the local cluster,
// which the bench finds here (as the tests do).
const env = { ...stack.env };
if (env.REDIS_CLUSTER_NODES) env.TEST_REDIS_CLUSTER_NODES = env.REDIS_CLUSTER_NODES;
env.REDIS_CLUSTER_NODES = '';
const status = runTs([join(ROOT, script), ...(named[args[0]] ? args.slice(1) : args)], env);
if (stack.started) stackDown('test');
process.exit(status);
