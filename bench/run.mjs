// npm run bench [-- read-side] [options]: starts the local test stack (unless REDIS_URL/MYSQL_URL
// are set) and runs the fleet load (default) or the read-side query measurement.
import { join } from 'node:path';
import { ensureDeps, ROOT, runTs, stackDown, stackUp } from '../scripts/lib.mjs';

ensureDeps();
const stack = stackUp('test');
const args = process.argv.slice(2);
const script = args[0] === 'read-side' ? 'bench/read-side.ts' : 'bench/load.ts';
const status = runTs([join(ROOT, script), ...(args[0] === 'read-side' ? args.slice(1) : args)], stack.env);
if (stack.started) stackDown('test');
process.exit(status);
