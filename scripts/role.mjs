// npm run role -- <role> [-c conf/im-message.ini]: one process of a role in the foreground.
import { ensureDeps, roleEntry, availableRoles, tsNode, say } from './lib.mjs';

const [role, ...rest] = process.argv.slice(2);
if (!role || !availableRoles().includes(role)) {
  say(`usage: npm run role -- <role> [-c FILE]; roles: ${availableRoles().join(', ')}`);
  process.exit(2);
}
ensureDeps();
const child = tsNode([roleEntry(role), ...rest], { stdio: 'inherit' });
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
