// npm run role -- <role> [-c conf/im-message.ini]: one process of a role in the foreground, from its
// bundle (apps/<role>/dist/main.js, built first when older than the sources).
import { availableRoles, bundleNode, ensureBundles, ensureDeps, say } from './lib.mjs';

const [role, ...rest] = process.argv.slice(2);
if (!role || !availableRoles().includes(role)) {
  say(`usage: npm run role -- <role> [-c FILE]; roles: ${availableRoles().join(', ')}`);
  process.exit(2);
}
ensureDeps();
await ensureBundles([role]);
const child = bundleNode(role, rest, { stdio: 'inherit' });
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
