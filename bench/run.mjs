// npm run bench [-- read-side | cleaner] [options]: starts the local test stack (unless
// REDIS_URL/MYSQL_URL are set) and runs the fleet load (default), the read-side query measurement,
// or the cleaner on a large table.
import { join } from 'node:path';
import { ensureDeps, ROOT, runTs, stackDown, stackUp } from '../scripts/lib.mjs';

ensureDeps();
const stack = stackUp('test');
const args = process.argv.slice(2);
const named = { 'read-side': 'bench/read-side.ts', cleaner: 'bench/cleaner.ts' };
const script = named[args[0]] ?? 'bench/fleet.ts';
const status = runTs([join(ROOT, script), ...(named[args[0]] ? args.slice(1) : args)], stack.env);
if (stack.started) stackDown('test');
process.exit(status);
