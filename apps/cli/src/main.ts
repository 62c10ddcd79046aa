import { parseArgs } from 'node:util';
import { ConfigError, configFileFromArgv, loadConfig, type Config } from '@im/config';
import { COMMANDS, type Command } from './commands';
import { defaultConfigFile, LOCAL_STACK_CONFIG } from './connect';

const USAGE = `usage: im-message <command> [options]   (im-message <command> --help for its options)

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(11)} ${c.summary}`)
  .join('\n')}

common options:
  -c, --config FILE   configuration file (default: ${LOCAL_STACK_CONFIG}, which npm start writes for the
                      local stack, when it exists); IM_*, REDIS_URL, MYSQL_URL win over the file
  --json              machine-readable output
  -h, --help          help`;

function fail(message: string, code = 2): never {
  process.stderr.write(`im-message: ${message}\n`);
  process.exit(code);
}

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(USAGE + '\n');
  process.exit(name ? 0 : 2);
}
const command: Command | undefined = COMMANDS[name as keyof typeof COMMANDS];
if (!command) fail(`unknown command "${name}"\n\n${USAGE}`);

let parsed;
try {
  parsed = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      ...command.options,
    },
  });
} catch (err) {
  fail(`${(err as Error).message}\n\n${command.usage}`);
}
if (parsed.values.help) {
  process.stdout.write(`${command.usage}\n`);
  process.exit(0);
}

let config: Config;
try {
  config = loadConfig({ file: configFileFromArgv(rest) ?? defaultConfigFile() });
} catch (err) {
  fail(err instanceof ConfigError ? err.message : (err as Error).message);
}

try {
  const code = await command.run({ config, values: parsed.values as Record<string, unknown>, positionals: parsed.positionals, json: Boolean(parsed.values.json) });
  process.exit(code ?? 0);
} catch (err) {
  fail((err as Error).message, 1);
}
