// `npm run migrate [-- -c conf/im-message.ini]`: applies pending migrations to the configured MySQL.
import { ConfigError, configFileFromArgv, configWarnings, loadConfig } from '@im/config';
import { migrate } from './migrate';

try {
  const config = loadConfig({ file: configFileFromArgv() });
  for (const warning of configWarnings(config)) process.stderr.write(`migrate: warning: ${warning}\n`);
  const { applied, current } = await migrate(config.mysql.url, { log: (m) => process.stdout.write(`migrate: ${m}\n`) });
  process.stdout.write(`migrate: schema at version ${current} (${applied.length} applied now)\n`);
} catch (err) {
  process.stderr.write(`migrate: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
  process.exit(1);
}
