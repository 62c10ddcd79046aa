// npm run partitions -- list | enable [-c conf/im-message.ini]
// enable: turns message_history into monthly RANGE (message_id) partitions (rebuilds the table:
// see docs/operations.md before running it on a big one); the cleaner then keeps months ahead.
import { ConfigError, configFileFromArgv, loadConfig } from '@im/config';
import { createPool, partitionsRepository } from '@im/db';
import { maintainPartitions, monthPartition, monthStart } from './partitions';

const command = process.argv[2];
if (command !== 'list' && command !== 'enable') {
  process.stderr.write('usage: npm run partitions -- list | enable [-c FILE]\n');
  process.exit(2);
}
try {
  const config = loadConfig({ file: configFileFromArgv() });
  const pool = createPool({ url: config.mysql.url, size: 1 });
  const repo = partitionsRepository(pool);
  try {
    if (command === 'enable') {
      if ((await repo.list()).length > 0) {
        process.stdout.write('message_history is already partitioned\n');
      } else {
        const first = monthPartition(monthStart(Date.now()));
        process.stdout.write(`partitioning message_history: everything so far in ${first.name}, then p_future (this rebuilds the table)\n`);
        await repo.enable(first);
        const r = await maintainPartitions(repo, Date.now(), 3, 0);
        process.stdout.write(`added ${r.added.join(', ') || 'nothing'}\n`);
      }
    }
    for (const p of await repo.list()) process.stdout.write(`${p.name.padEnd(10)} < ${p.lessThan.padEnd(20)} ~${p.rows} rows\n`);
  } finally {
    await pool.end();
  }
} catch (err) {
  process.stderr.write(`partitions: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
  process.exit(1);
}
