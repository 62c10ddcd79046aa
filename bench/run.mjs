// npm run bench: starts the local test stack (unless REDIS_URL/MYSQL_URL are set) and runs the load.
import { join } from 'node:path';
import { ensureDeps, ROOT, runTs, stackDown, stackUp } from '../scripts/lib.mjs';

ensureDeps();
const stack = stackUp('test');
const status = runTs([join(ROOT, 'bench/load.ts'), ...process.argv.slice(2)], stack.env);
if (stack.started) stackDown('test');
process.exit(status);
