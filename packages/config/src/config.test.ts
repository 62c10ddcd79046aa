import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configFileFromArgv, loadConfig, parseIni, schema, sourceOf } from './index';

let dir: string;
let counter = 0;

/** Writes `text` to a fresh INI file under os.tmpdir() and returns its path. */
function iniFile(text: string): string {
  const path = join(dir, `test-${++counter}.ini`);
  writeFileSync(path, text, 'utf8');
  return path;
}

/** Runs fn, asserts it throws a ConfigError and returns that error. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError, but nothing was thrown');
}

const TOKEN_A = 'abcdefghijklmnop'; // 16 chars, the shortest valid token
const TOKEN_B = 'ZYXWVUTSRQPONMLKJIHG.~+/=-_0123';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'im-config-test-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadConfig defaults', () => {
  it('returns every default when no file and an empty environment are given', () => {
    const cfg = loadConfig({ env: {} });
    assert.equal(cfg.message_service.port, 6000);
    assert.equal(cfg.message_service.host, '127.0.0.1');
    assert.equal(cfg.message_limits.max_message_length, 4096);
    assert.equal(cfg.queue.batch_size, 100);
    assert.equal(cfg.queue.redis_url, 'redis://127.0.0.1:6379');
    assert.equal(cfg.queue.prefix, '{im}');
    assert.equal(cfg.mysql.url, 'mysql://127.0.0.1:3306/im', 'no credentials in the built-in default');
    assert.deepEqual(cfg.auth.api_tokens, []);
    assert.equal(cfg.log.level, 'info');
  });

  it('has one section per schema section and one key per schema key, each equal to its default', () => {
    const cfg = loadConfig({ env: {} }) as unknown as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(cfg).sort(), Object.keys(schema).sort());
    for (const [section, keys] of Object.entries(schema)) {
      assert.deepEqual(Object.keys(cfg[section]!).sort(), Object.keys(keys).sort(), `keys of [${section}]`);
      for (const [key, spec] of Object.entries(keys)) {
        assert.deepEqual(cfg[section]![key], (spec as { default: unknown }).default, `${section}.${key}`);
      }
    }
  });

  it('ignores environment variables that are neither IM_* nor shorthands', () => {
    const cfg = loadConfig({ env: { PATH: '/usr/bin', HOME: '/root', IMPORTANT: 'x' } });
    assert.equal(cfg.message_service.port, 6000);
  });
});

describe('parseIni', () => {
  it('reads sections and key = value pairs, skipping blank and comment lines', () => {
    const { entries, problems } = parseIni(
      ['# a comment', '; another comment', '', '[a]', 'x = 1', 'y=two words', '  [b]  ', '   z   =   3   '].join('\n'),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      [...entries],
      [
        ['a.x', '1'],
        ['a.y', 'two words'],
        ['b.z', '3'],
      ],
    );
  });

  it('strips trailing # and ; comments after a value', () => {
    const { entries, problems } = parseIni('[s]\na = 10   # hash comment\nb = 20 ; semicolon comment\nc = 30\t# after a tab\n');
    assert.deepEqual(problems, []);
    assert.equal(entries.get('s.a'), '10');
    assert.equal(entries.get('s.b'), '20');
    assert.equal(entries.get('s.c'), '30');
  });

  it('handles CRLF line endings', () => {
    const { entries, problems } = parseIni('[s]\r\na = 1\r\nb = 2\r\n');
    assert.deepEqual(problems, []);
    assert.equal(entries.get('s.a'), '1');
    assert.equal(entries.get('s.b'), '2');
  });

  it('reports a key before any section and an unreadable line, with source and line number', () => {
    const { problems } = parseIni('orphan = 1\n[s]\nthis is not ini\n', 'my.ini');
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /^my\.ini:1: /);
    assert.match(problems[0]!, /orphan = 1/);
    assert.match(problems[1]!, /^my\.ini:3: /);
    assert.match(problems[1]!, /this is not ini/);
  });
});

describe('loadConfig from an INI file', () => {
  it('reads values from the file, ignoring comments (also trailing ones)', () => {
    const file = iniFile(
      [
        '# leading comment',
        '; semicolon comment',
        '[message_service]',
        'port = 7001   # trailing hash comment',
        'host = 0.0.0.0 ; trailing semicolon comment',
        '',
        '[queue]',
        'batch_size = 50',
        '[log]',
        'level = debug',
      ].join('\n'),
    );
    const cfg = loadConfig({ file, env: {} });
    assert.equal(cfg.message_service.port, 7001);
    assert.equal(cfg.message_service.host, '0.0.0.0');
    assert.equal(cfg.queue.batch_size, 50);
    assert.equal(cfg.log.level, 'debug');
    // keys not in the file keep their defaults
    assert.equal(cfg.message_limits.max_message_length, 4096);
  });

  it('loads the repository conf/im-message.ini without problems', () => {
    const file = join(import.meta.dirname, '../../../conf/im-message.ini');
    const cfg = loadConfig({ file, env: {} });
    assert.equal(cfg.message_service.port, 6000);
    assert.equal(cfg.queue.max_backoff_ms, 5000);
    assert.equal(cfg.message_limits.offline_message_ttl, 30);
  });

  it('lets IM_<SECTION>_<KEY> in the environment override a value from the file', () => {
    const file = iniFile('[message_service]\nport = 7001\n[queue]\nbatch_size = 50\n');
    const cfg = loadConfig({ file, env: { IM_MESSAGE_SERVICE_PORT: '7002' } });
    assert.equal(cfg.message_service.port, 7002);
    assert.equal(cfg.queue.batch_size, 50, 'a key not overridden keeps the file value');
  });

  it('throws a ConfigError for a missing config file', () => {
    const err = configError(() => loadConfig({ file: join(dir, 'does-not-exist.ini'), env: {} }));
    assert.equal(err.problems.length, 1);
    assert.match(err.message, /does-not-exist\.ini/);
    assert.match(err.message, /does not exist/);
  });

  it('says what replaced a key that is no longer a setting, in the file and in the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'im-config-'));
    const file = join(dir, 'old.ini');
    writeFileSync(file, '[queue]\nattempts = 10\n');
    const fromFile = (() => {
      try {
        loadConfig({ file, env: {} });
      } catch (e) {
        return e as ConfigError;
      }
      assert.fail('a removed key was accepted');
    })();
    assert.match(fromFile.problems[0]!, /queue\.attempts is no longer a setting \(remove it\): a job now fails for good only when the job itself is at fault/);
    const fromEnv = (() => {
      try {
        loadConfig({ env: { IM_QUEUE_ATTEMPTS: '10' } });
      } catch (e) {
        return e as ConfigError;
      }
      assert.fail('a removed key was accepted');
    })();
    assert.match(fromEnv.problems[0]!, /^environment IM_QUEUE_ATTEMPTS: queue\.attempts is no longer a setting/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('throws a ConfigError naming an unknown key in the file', () => {
    const file = iniFile('[message_service]\nport = 6001\nbogus_key = 1\n');
    const err = configError(() => loadConfig({ file, env: {} }));
    assert.equal(err.problems.length, 1);
    assert.match(err.message, /bogus_key/);
    assert.match(err.problems[0]!, /unknown key "message_service\.bogus_key"/);
  });

  it('throws a ConfigError naming a key in an unknown section', () => {
    const file = iniFile('[nosuchsection]\nport = 1\n');
    const err = configError(() => loadConfig({ file, env: {} }));
    assert.match(err.message, /nosuchsection\.port/);
  });

  it('names the file, section and key of a bad value from the file', () => {
    const file = iniFile('[message_service]\nport = abc\n');
    const err = configError(() => loadConfig({ file, env: {} }));
    assert.equal(err.problems.length, 1);
    assert.ok(err.problems[0]!.includes(file), `problem names the file: ${err.problems[0]}`);
    assert.match(err.problems[0]!, /\[message_service\] port/);
    assert.match(err.problems[0]!, /"abc"/);
  });
});

describe('loadConfig from the environment', () => {
  it('lets the full IM_<SECTION>_<KEY> name win over its shorthand, whatever their order', () => {
    for (const env of [
      { REDIS_URL: 'redis://short:1', IM_QUEUE_REDIS_URL: 'redis://long:1' },
      { IM_QUEUE_REDIS_URL: 'redis://long:1', REDIS_URL: 'redis://short:1' },
    ]) {
      assert.equal(loadConfig({ env }).queue.redis_url, 'redis://long:1');
    }
  });

  it('returns a frozen token list by default, so no caller can change the next load', () => {
    const tokens = loadConfig({ env: {} }).auth.api_tokens;
    assert.ok(Object.isFrozen(tokens));
    assert.throws(() => (tokens as string[]).push('sneaky-token-0123456789'));
    assert.equal(loadConfig({ env: {} }).auth.api_tokens.length, 0);
  });

  it('reads IM_<SECTION>_<KEY> in upper case', () => {
    const cfg = loadConfig({
      env: { IM_QUEUE_CONCURRENCY: '32', IM_MESSAGE_LIMITS_MAX_MESSAGE_LENGTH: '100', IM_LOG_LEVEL: 'warn' },
    });
    assert.equal(cfg.queue.concurrency, 32);
    assert.equal(cfg.message_limits.max_message_length, 100);
    assert.equal(cfg.log.level, 'warn');
  });

  it('trims surrounding whitespace of integer values', () => {
    const cfg = loadConfig({ env: { IM_MESSAGE_SERVICE_PORT: ' 6100 ' } });
    assert.equal(cfg.message_service.port, 6100);
  });

  it('accepts the shorthands REDIS_URL, MYSQL_URL and IM_API_TOKENS', () => {
    const cfg = loadConfig({
      env: {
        REDIS_URL: 'redis://cache.example:6380',
        MYSQL_URL: 'mysql://u:p@db.example:3307/x',
        IM_API_TOKENS: ` ${TOKEN_A} , ${TOKEN_B} ,`,
      },
    });
    assert.equal(cfg.queue.redis_url, 'redis://cache.example:6380');
    assert.equal(cfg.mysql.url, 'mysql://u:p@db.example:3307/x');
    assert.deepEqual(cfg.auth.api_tokens, [TOKEN_A, TOKEN_B]);
  });

  it('lets a shorthand override the INI file too', () => {
    const file = iniFile('[queue]\nredis_url = redis://from-file:6379\n');
    const cfg = loadConfig({ file, env: { REDIS_URL: 'rediss://from-env:6379' } });
    assert.equal(cfg.queue.redis_url, 'rediss://from-env:6379');
  });

  it('throws a ConfigError naming an unknown IM_* variable', () => {
    const err = configError(() => loadConfig({ env: { IM_NOT_A_KEY: '1' } }));
    assert.equal(err.problems.length, 1);
    assert.match(err.problems[0]!, /^environment IM_NOT_A_KEY: unknown key/);
  });

  it('rejects a lower-case IM_ variable instead of silently ignoring it', () => {
    const err = configError(() => loadConfig({ env: { IM_message_service_port: '6001' } }));
    assert.match(err.message, /IM_message_service_port/);
  });

  it('rejects a non-numeric port, naming the variable and the value', () => {
    const err = configError(() => loadConfig({ env: { IM_MESSAGE_SERVICE_PORT: 'abc' } }));
    assert.equal(err.problems.length, 1);
    assert.match(err.problems[0]!, /^environment IM_MESSAGE_SERVICE_PORT: /);
    assert.match(err.problems[0]!, /"abc"/);
  });

  it('rejects a history retention shorter than the offline TTL (offline rows would outlive their message), and accepts 0 or longer', () => {
    const err = configError(() => loadConfig({ env: { IM_CLEANER_HISTORY_RETENTION_DAYS: '7', IM_MESSAGE_LIMITS_OFFLINE_MESSAGE_TTL: '30' } }));
    assert.equal(err.problems.length, 1);
    assert.match(err.problems[0]!, /^environment IM_CLEANER_HISTORY_RETENTION_DAYS: .*offline_message_ttl \(30 days; got 7\)/);
    assert.equal(loadConfig({ env: { IM_CLEANER_HISTORY_RETENTION_DAYS: '0' } }).cleaner.history_retention_days, 0);
    assert.equal(loadConfig({ env: { IM_CLEANER_HISTORY_RETENTION_DAYS: '30', IM_MESSAGE_LIMITS_OFFLINE_MESSAGE_TTL: '30' } }).cleaner.history_retention_days, 30);
  });

  it('rejects a port above 65535', () => {
    const err = configError(() => loadConfig({ env: { IM_MESSAGE_SERVICE_PORT: '70000' } }));
    assert.equal(err.problems.length, 1);
    assert.match(err.problems[0]!, /IM_MESSAGE_SERVICE_PORT/);
    assert.match(err.problems[0]!, /70000/);
    assert.match(err.problems[0]!, /65535/);
  });

  it('rejects a negative batch_size', () => {
    const err = configError(() => loadConfig({ env: { IM_QUEUE_BATCH_SIZE: '-5' } }));
    assert.equal(err.problems.length, 1);
    assert.match(err.problems[0]!, /IM_QUEUE_BATCH_SIZE/);
    assert.match(err.problems[0]!, /-5/);
  });

  it('rejects integers written as floats or in exponent form', () => {
    for (const value of ['1.5', '1e3', '0x10', '']) {
      const err = configError(() => loadConfig({ env: { IM_QUEUE_CONCURRENCY: value } }));
      assert.match(err.problems[0]!, /IM_QUEUE_CONCURRENCY/, `value ${JSON.stringify(value)}`);
    }
  });

  it('reads true/false switches in any case and rejects anything else', () => {
    assert.equal(loadConfig({ env: {} }).dashboard.read_only, true);
    assert.equal(loadConfig({ env: { IM_DASHBOARD_READ_ONLY: 'False' } }).dashboard.read_only, false);
    assert.equal(loadConfig({ env: { IM_DASHBOARD_READ_ONLY: ' true ' } }).dashboard.read_only, true);
    for (const value of ['yes', '1', '']) {
      const err = configError(() => loadConfig({ env: { IM_DASHBOARD_READ_ONLY: value } }));
      assert.match(err.problems[0]!, /IM_DASHBOARD_READ_ONLY: expected true or false/, `value ${JSON.stringify(value)}`);
    }
  });

  it('rejects a redis_url without the redis:// scheme and an unknown log level', () => {
    const err = configError(() => loadConfig({ env: { REDIS_URL: 'http://x', IM_LOG_LEVEL: 'verbose' } }));
    assert.equal(err.problems.length, 2);
    assert.ok(err.problems.some((p) => p.startsWith('environment REDIS_URL: ')));
    assert.ok(err.problems.some((p) => p.startsWith('environment IM_LOG_LEVEL: ') && p.includes('"verbose"')));
  });

  it('rejects an api token shorter than 16 characters', () => {
    const short = 'short-token-15c';
    assert.equal(short.length, 15);
    const err = configError(() => loadConfig({ env: { IM_API_TOKENS: `${TOKEN_A},${short}` } }));
    assert.equal(err.problems.length, 1);
    assert.match(err.problems[0]!, /^environment IM_API_TOKENS: /);
  });

  it('rejects a 15-character token but accepts a 16-character one', () => {
    const fifteen = 'a'.repeat(15);
    const sixteen = 'a'.repeat(16);
    const err = configError(() => loadConfig({ env: { IM_API_TOKENS: fifteen } }));
    assert.match(err.problems[0]!, /IM_API_TOKENS/);
    const cfg = loadConfig({ env: { IM_API_TOKENS: sixteen } });
    assert.deepEqual(cfg.auth.api_tokens, [sixteen]);
  });

  it('reports several problems at once', () => {
    const file = iniFile('[message_service]\nunknown_in_file = 1\n');
    const err = configError(() =>
      loadConfig({
        file,
        env: {
          IM_MESSAGE_SERVICE_PORT: 'abc',
          IM_QUEUE_BATCH_SIZE: '-1',
          IM_NOPE: 'x',
        },
      }),
    );
    assert.equal(err.problems.length, 4, err.message);
    assert.match(err.message, /IM_MESSAGE_SERVICE_PORT/);
    assert.match(err.message, /IM_QUEUE_BATCH_SIZE/);
    assert.match(err.message, /IM_NOPE/);
    assert.match(err.message, /unknown_in_file/);
    assert.equal(err.name, 'ConfigError');
  });
});

describe('loadConfig result', () => {
  it('is frozen, and so is each section', () => {
    const cfg = loadConfig({ env: { IM_API_TOKENS: TOKEN_A } });
    assert.ok(Object.isFrozen(cfg));
    for (const section of Object.keys(schema)) {
      assert.ok(Object.isFrozen((cfg as unknown as Record<string, object>)[section]), `section ${section} is frozen`);
    }
    assert.ok(Object.isFrozen(cfg.auth.api_tokens), 'a parsed token list is frozen');
    assert.throws(() => {
      (cfg.message_service as { port: number }).port = 1;
    }, TypeError);
    assert.equal(cfg.message_service.port, 6000);
  });
});

describe('configFileFromArgv', () => {
  it('reads -c FILE', () => {
    assert.equal(configFileFromArgv(['-c', 'a.ini']), 'a.ini');
  });

  it('reads --config FILE', () => {
    assert.equal(configFileFromArgv(['--verbose', '--config', 'b.ini', 'rest']), 'b.ini');
  });

  it('reads --config=FILE', () => {
    assert.equal(configFileFromArgv(['--config=/etc/im/c.ini']), '/etc/im/c.ini');
  });

  it('returns undefined when no config option is given', () => {
    assert.equal(configFileFromArgv([]), undefined);
    assert.equal(configFileFromArgv(['--port', '6000', 'file.ini']), undefined);
  });

  it('refuses a config option without a file', () => {
    for (const argv of [['-c'], ['--config'], ['--config='], ['-c', '--json']]) {
      assert.throws(() => configFileFromArgv(argv), (err: Error) => err instanceof ConfigError && /needs the path of a config file/.test(err.message), argv.join(' '));
    }
  });
});

describe('sourceOf', () => {
  it('names the environment variable, the file and key, or the default a value came from', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'im-src-')), 'c.ini');
    writeFileSync(file, '[mysql]\nurl = mysql://a@127.0.0.1:3390/im\n');
    const config = loadConfig({ file, env: { REDIS_URL: 'redis://127.0.0.1:6390' } });
    assert.equal(sourceOf(config, 'queue.redis_url'), 'environment REDIS_URL');
    assert.equal(sourceOf(config, 'mysql.url'), `${file} [mysql] url`);
    assert.equal(sourceOf(config, 'queue.prefix'), 'the built-in default');
  });
});

describe('Redis as separate parts (queue.redis_address, redis_username, redis_password, redis_tls)', () => {
  // The form KEDA's redis scalers read (address, username, password, tls: enable|disable), so one
  // Secret feeds the roles and the autoscaler (infra/k8s).
  it('make up redis_url, credentials percent-encoded, TLS as the scheme', () => {
    const password = 'p@ss/w:rd+= %';
    const cfg = loadConfig({
      env: { IM_QUEUE_REDIS_ADDRESS: 'redis.data.svc:6380', IM_QUEUE_REDIS_USERNAME: 'im', IM_QUEUE_REDIS_PASSWORD: password, IM_QUEUE_REDIS_TLS: 'enable' },
    });
    const u = new URL(cfg.queue.redis_url);
    assert.equal(u.protocol, 'rediss:');
    assert.equal(u.host, 'redis.data.svc:6380');
    assert.equal(decodeURIComponent(u.username), 'im');
    assert.equal(decodeURIComponent(u.password), password, 'a password with URL characters survives');
    assert.equal(sourceOf(cfg, 'queue.redis_url'), 'environment IM_QUEUE_REDIS_ADDRESS, IM_QUEUE_REDIS_USERNAME, IM_QUEUE_REDIS_PASSWORD, IM_QUEUE_REDIS_TLS');
  });

  it('leave out what is empty (a Secret with an empty user and password) and keep redis_url as it is without them', () => {
    const cfg = loadConfig({ env: { IM_QUEUE_REDIS_ADDRESS: 'redis:6379', IM_QUEUE_REDIS_USERNAME: '', IM_QUEUE_REDIS_PASSWORD: '', IM_QUEUE_REDIS_TLS: 'disable' } });
    assert.equal(cfg.queue.redis_url, 'redis://redis:6379');
    assert.equal(loadConfig({ env: { REDIS_URL: 'redis://cache:6390/2' } }).queue.redis_url, 'redis://cache:6390/2');
  });

  it("lend a Redis Cluster its user, password and TLS (the cluster's nodes are cluster_nodes)", () => {
    const cfg = loadConfig({ env: { REDIS_CLUSTER_NODES: 'a:7000,b:7000', IM_QUEUE_REDIS_PASSWORD: 'secret', IM_QUEUE_REDIS_TLS: 'enable' } });
    assert.deepEqual(cfg.queue.cluster_nodes, ['a:7000', 'b:7000']);
    const u = new URL(cfg.queue.redis_url);
    assert.equal(u.protocol, 'rediss:');
    assert.equal(u.password, 'secret');
  });

  it('refuse the server given twice, and a TLS switch that is not enable or disable', () => {
    const twice = configError(() => loadConfig({ env: { REDIS_URL: 'redis://a:6379', IM_QUEUE_REDIS_ADDRESS: 'b:6379' } }));
    assert.match(twice.message, /environment IM_QUEUE_REDIS_ADDRESS and environment REDIS_URL: the Redis server is given twice/);
    const tls = configError(() => loadConfig({ env: { IM_QUEUE_REDIS_TLS: 'true' } }));
    assert.match(tls.message, /IM_QUEUE_REDIS_TLS: expected enable or disable/);
    const address = configError(() => loadConfig({ env: { IM_QUEUE_REDIS_ADDRESS: 'redis://b:6379' } }));
    assert.match(address.message, /IM_QUEUE_REDIS_ADDRESS: expected host:port/);
  });
});

describe('push settings', () => {
  it('default to off, with no text in pushes', () => {
    const p = loadConfig({ env: {} }).push;
    assert.equal(p.enabled, false);
    assert.equal(p.include_content, false);
    assert.equal(p.collapse_window_ms, 2000);
  });

  it('refuse a webhook without its signing secret, APNs settings given in part, and a URL that is not http(s)', () => {
    assert.match(configError(() => loadConfig({ env: { IM_PUSH_WEBHOOK_URL: 'https://b.example/push' } })).message, /push.webhook_secret is needed/);
    assert.match(configError(() => loadConfig({ env: { IM_PUSH_APNS_KEY_FILE: '/k.p8', IM_PUSH_APNS_KEY_ID: 'ABC123DEFG' } })).message, /APNs needs push.apns_key_file, apns_key_id, apns_team_id and apns_topic together/);
    assert.match(configError(() => loadConfig({ env: { IM_PUSH_FCM_ENDPOINT: 'ftp://x' } })).message, /IM_PUSH_FCM_ENDPOINT: expected an http:\/\/ or https:\/\/ URL/);
    const ok = loadConfig({ env: { IM_PUSH_WEBHOOK_URL: 'https://b.example/push', IM_PUSH_WEBHOOK_SECRET: 's e c r e t' } }).push;
    assert.equal(ok.webhook_secret, 's e c r e t', 'a secret is taken as it is');
  });
});

describe('hooks settings', () => {
  it('refuse a hook URL without the signing secret, and a before_send timeout over a quarter of the request bound', () => {
    assert.match(configError(() => loadConfig({ env: { IM_HOOKS_AFTER_SEND_URL: 'https://b.example/e' } })).message, /IM_HOOKS_AFTER_SEND_URL: hooks.secret is needed/);
    const slow = configError(() => loadConfig({ env: { IM_HOOKS_BEFORE_SEND_URL: 'https://b.example/h', IM_HOOKS_SECRET: 's', IM_HOOKS_BEFORE_SEND_TIMEOUT_MS: '1000' } }));
    assert.match(slow.message, /hooks.before_send_timeout_ms|IM_HOOKS_BEFORE_SEND_TIMEOUT_MS: must be at most a quarter of message_service.request_timeout_ms \(3000 ms\)/);
    assert.match(configError(() => loadConfig({ env: { IM_HOOKS_BEFORE_SEND_POLICY: 'maybe' } })).message, /expected one of fail_open, fail_closed/);
    const ok = loadConfig({ env: { IM_HOOKS_BEFORE_SEND_URL: 'https://b.example/h', IM_HOOKS_SECRET: 's', IM_HOOKS_BEFORE_SEND_TIMEOUT_MS: '750' } }).hooks;
    assert.equal(ok.before_send_policy, 'fail_open');
  });
});
