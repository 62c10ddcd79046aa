import { existsSync, readFileSync } from 'node:fs';
import { REMOVED_KEYS, schema, SHORTHANDS, type Config, type KeySpec } from './schema';
import { serviceLinks } from './service-links';

export { kubeletServiceLinks, type ServiceLinkSource } from './service-links';

export type { Config };
export { schema };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the seed's INI layout: [section], key = value, # or ; comments (also after a value). */
export function parseIni(text: string, source = 'config'): { entries: Map<string, string>; problems: string[] } {
  const entries = new Map<string, string>();
  const problems: string[] = [];
  let section = '';
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const line = rawLine.replace(/\s[#;].*$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([\w.-]+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      return;
    }
    const kv = /^([\w.-]+)\s*=\s*(.*)$/.exec(line);
    if (!kv || section === '') {
      problems.push(`${source}:${i + 1}: cannot read "${rawLine.trim()}" (expected [section] or key = value)`);
      return;
    }
    entries.set(`${section}.${kv[1]}`, kv[2]!);
  });
  return { entries, problems };
}

function envName(section: string, key: string): string {
  return `IM_${section}_${key}`.toUpperCase();
}

/** Every environment variable the config reads, with the key it sets: IM_<SECTION>_<KEY> of each key, and the shorthands. */
export function environmentKeys(): Map<string, [section: string, key: string]> {
  const known = new Map<string, [string, string]>();
  for (const [section, keys] of Object.entries(schema)) {
    for (const key of Object.keys(keys)) known.set(envName(section, key), [section, key]);
  }
  for (const [name, target] of Object.entries(SHORTHANDS)) known.set(name, [target[0], target[1]]);
  return known;
}

const SOURCES = new WeakMap<object, Map<string, string>>();
const WARNINGS = new WeakMap<object, readonly string[]>();

/**
 * Where a loaded value came from: "environment REDIS_URL", "FILE [queue] redis_url", or
 * "the built-in default". For messages that tell a person what to change.
 */
export function sourceOf(config: Config, key: `${string}.${string}`): string {
  return SOURCES.get(config)?.get(key) ?? 'the built-in default';
}

/**
 * What loading the config passed over without refusing it, one line each, for the process to log
 * once it has a logger: the variables of Kubernetes service links (service-links.ts).
 */
export function configWarnings(config: Config): readonly string[] {
  return WARNINGS.get(config) ?? [];
}

export interface LoadOptions {
  /** Path of the INI file; when absent, no file is read. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/**
 * Reads the INI file and the environment (environment wins), checks every value and
 * returns a frozen, typed Config. Unknown keys and bad values throw a ConfigError naming each.
 */
const removed = (key: string, why: string) => `${key} is no longer a setting (remove it): ${why}`;

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const raw = new Map<string, { value: string; from: string }>();

  if (options.file !== undefined) {
    if (!existsSync(options.file)) throw new ConfigError([`config file ${options.file} does not exist`]);
    const parsed = parseIni(readFileSync(options.file, 'utf8'), options.file);
    problems.push(...parsed.problems);
    for (const [k, v] of parsed.entries) raw.set(k, { value: v, from: `${options.file} [${k.replace('.', '] ')}` });
  }

  const known = environmentKeys();
  const removedByEnv = new Map(Object.entries(REMOVED_KEYS).map(([k, why]) => [envName(k.split('.')[0]!, k.split('.')[1]!), removed(k, why)]));

  // Variables the kubelet wrote for the Services of the namespace are not settings, even where
  // their names are (a Service im-message gives IM_MESSAGE_SERVICE_HOST and _PORT).
  const links = serviceLinks(env, (name) => name.startsWith('IM_') || known.has(name));
  const linked = new Set(links.flatMap((l) => l.variables));
  const warnings = links.map(
    (l) =>
      `environment ${l.variables.filter((n) => n.startsWith('IM_') || known.has(n)).join(', ')}: written by Kubernetes for the Service ${l.service} (service links), not settings: ignored ` +
      '(enableServiceLinks: false in the pod spec leaves them out)',
  );

  // Shorthands first, so that the full IM_<SECTION>_<KEY> name wins when both are set.
  const envEntries = Object.entries(env).filter(([n]) => !linked.has(n));
  const ordered = [...envEntries.filter(([n]) => n in SHORTHANDS), ...envEntries.filter(([n]) => !(n in SHORTHANDS))];
  for (const [name, value] of ordered) {
    if (value === undefined) continue;
    const target = known.get(name);
    if (target) raw.set(`${target[0]}.${target[1]}`, { value, from: `environment ${name}` });
    else if (removedByEnv.has(name)) problems.push(`environment ${name}: ${removedByEnv.get(name)}`);
    else if (name.startsWith('IM_')) problems.push(`environment ${name}: unknown key (known: ${[...known.keys()].filter((k) => k.startsWith('IM_')).join(', ')})`);
  }

  const sources = new Map<string, string>();
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, keys] of Object.entries(schema)) {
    const sec: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(keys) as [string, KeySpec<unknown>][]) {
      const given = raw.get(`${section}.${key}`);
      raw.delete(`${section}.${key}`);
      if (given !== undefined) sources.set(`${section}.${key}`, given.from);
      if (given === undefined) {
        sec[key] = spec.default;
        continue;
      }
      try {
        sec[key] = spec.parse(given.value);
      } catch (err) {
        problems.push(`${given.from}: ${(err as Error).message}`);
      }
    }
    out[section] = Object.freeze(sec);
  }
  for (const [k, v] of raw) problems.push(`${v.from}: ${REMOVED_KEYS[k] ? removed(k, REMOVED_KEYS[k]) : `unknown key "${k}"`}`);
  if (out.queue) out.queue = Object.freeze({ ...out.queue, redis_url: redisUrl(out.queue as unknown as Config['queue'], sources, problems) });
  problems.push(...crossCheck(out as unknown as Config, sources));

  if (problems.length > 0) throw new ConfigError(problems);
  const config = Object.freeze(out) as unknown as Config;
  SOURCES.set(config, sources);
  WARNINGS.set(config, Object.freeze(warnings));
  return config;
}

/**
 * redis_url with the parts given separately (queue.redis_address, _username, _password, _tls) put
 * in: the user and password percent-encoded, TLS as the scheme. Its source names the parts.
 */
function redisUrl(q: Config['queue'], sources: Map<string, string>, problems: string[]): string {
  const parts = (['redis_address', 'redis_username', 'redis_password', 'redis_tls'] as const).filter((k) => sources.has(`queue.${k}`));
  if (parts.length === 0) return q.redis_url;
  if (q.redis_address && sources.has('queue.redis_url')) {
    problems.push(`${sources.get('queue.redis_address')} and ${sources.get('queue.redis_url')}: the Redis server is given twice; set redis_url, or redis_address with redis_username, redis_password and redis_tls`);
    return q.redis_url;
  }
  let url: URL;
  try {
    url = new URL(q.redis_url);
  } catch {
    return q.redis_url;
  }
  const tls = q.redis_tls === '' ? url.protocol === 'rediss:' : q.redis_tls === 'enable';
  const username = sources.has('queue.redis_username') ? q.redis_username : decodeURIComponent(url.username);
  const password = sources.has('queue.redis_password') ? q.redis_password : decodeURIComponent(url.password);
  const auth = username || password ? `${encodeURIComponent(username)}${password ? `:${encodeURIComponent(password)}` : ''}@` : '';
  const path = url.pathname === '/' ? '' : url.pathname;
  const from = parts.map((k) => sources.get(`queue.${k}`)!);
  sources.set('queue.redis_url', from.every((f) => f.startsWith('environment ')) ? `environment ${from.map((f) => f.slice('environment '.length)).join(', ')}` : from.join(', '));
  return `${tls ? 'rediss' : 'redis'}://${auth}${q.redis_address || url.host}${path}`;
}

/** Rules that span keys. */
function crossCheck(c: Config, sources: Map<string, string>): string[] {
  const q = c.queue;
  if (!q) return [];
  const problems: string[] = [];
  const from = (key: string) => sources.get(key) ?? 'the built-in default';
  for (const s of q.consume_shards) {
    if (Number(s) >= q.shards) problems.push(`${from('queue.consume_shards')}: shard ${s} does not exist (queue.shards is ${q.shards}: 0 to ${q.shards - 1})`);
  }
  const requestTimeout = c.message_service?.request_timeout_ms;
  if (requestTimeout !== undefined && q.min_replicas > 0 && q.replica_timeout_ms * 4 > requestTimeout) {
    problems.push(`${from('queue.replica_timeout_ms')}: must be at most a quarter of message_service.request_timeout_ms (${requestTimeout} ms), so that a send waiting for replicas is still answered in time (got ${q.replica_timeout_ms})`);
  }
  if (q.cluster_nodes.length > 0 && !/\{[^{}]+\}/.test(q.prefix)) {
    problems.push(`${from('queue.prefix')}: on Redis Cluster the queue prefix needs a hash tag, such as {im} (got "${q.prefix}")`);
  }
  // History must outlive the offline rows that reference it.
  const retention = c.cleaner?.history_retention_days ?? 0;
  const ttl = c.message_limits?.offline_message_ttl ?? 0;
  if (retention > 0 && retention < ttl) {
    problems.push(`${from('cleaner.history_retention_days')}: must be 0 (keep) or at least message_limits.offline_message_ttl (${ttl} days; got ${retention})`);
  }
  const p = c.push;
  if (p) {
    if (p.webhook_url && !p.webhook_secret) problems.push(`${from('push.webhook_url')}: push.webhook_secret is needed to sign what is sent there`);
    const apns = [p.apns_key_file, p.apns_key_id, p.apns_team_id, p.apns_topic];
    if (apns.some((v) => v !== '') && apns.some((v) => v === '')) problems.push(`${from('push.apns_key_file')}: APNs needs push.apns_key_file, apns_key_id, apns_team_id and apns_topic together`);
  }
  const h = c.hooks;
  if (h) {
    const set = (['before_send_url', 'after_send_url', 'after_recall_url'] as const).filter((k) => h[k] !== '');
    if (set.length > 0 && !h.secret) problems.push(`${from(`hooks.${set[0]}`)}: hooks.secret is needed to sign what is sent there`);
    if (requestTimeout !== undefined && h.before_send_url && h.before_send_timeout_ms * 4 > requestTimeout) {
      problems.push(`${from('hooks.before_send_timeout_ms')}: must be at most a quarter of message_service.request_timeout_ms (${requestTimeout} ms), so that a send is still admitted and answered in time (got ${h.before_send_timeout_ms})`);
    }
  }
  return problems;
}

/** The config file named by `-c FILE` / `--config FILE` on the command line, if any; an option without a file is an error. */
export function configFileFromArgv(argv: readonly string[] = process.argv.slice(2)): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const file = a === '-c' || a === '--config' ? argv[i + 1] : a.startsWith('--config=') ? a.slice('--config='.length) : undefined;
    if (file === undefined && a !== '-c' && a !== '--config') continue;
    if (!file || file.startsWith('-')) throw new ConfigError([`${a.split('=')[0]} needs the path of a config file`]);
    return file;
  }
  return undefined;
}
export { findUp } from './files';
