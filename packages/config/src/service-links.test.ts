import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, configWarnings, kubeletServiceLinks as serviceLinks, loadConfig } from './index';

/** A pod's environment as the kubelet assembles it: what the container declares (envFrom, env) wins over service links. */
const podEnv = (declared: Record<string, string>, links: Record<string, string>) => ({ ...links, ...declared });

/** What the manifests in infra/k8s give every container, less the secrets. */
const DECLARED = { IM_MESSAGE_SERVICE_HOST: '0.0.0.0', IM_DASHBOARD_HOST: '127.0.0.1', IM_QUEUE_PREFIX: '{im}', IM_API_TOKENS: 'abcdefghijklmnop' };

const LINKS = serviceLinks([
  // A Service named after the service itself: its variables are spelled like message_service.host and .port.
  { name: 'im-message', clusterIP: '10.96.12.7', ports: [{ name: 'http', port: 80 }, { name: 'grpc', port: 6001 }] },
  // What an overlay with namePrefix: im- makes of a Service "ingest".
  { name: 'im-ingest', clusterIP: '10.96.40.2', ports: [{ name: 'http', port: 6000 }] },
  // A Redis of the same namespace, its port unnamed.
  { name: 'im-redis', clusterIP: 'fd00:10:96::a', ports: [{ port: 6379 }] },
]);

describe('Kubernetes service links', () => {
  it('neither stop a role nor change its configuration (Services im-message, im-ingest, im-redis)', () => {
    assert.ok('IM_MESSAGE_PORT' in LINKS && 'IM_MESSAGE_SERVICE_PORT' in LINKS && 'IM_REDIS_PORT_6379_TCP_ADDR' in LINKS, 'the generator writes what the kubelet writes');
    let withLinks;
    try {
      withLinks = loadConfig({ env: podEnv(DECLARED, LINKS) });
    } catch (err) {
      assert.fail(`service links stop the role: ${(err as ConfigError).message}`);
    }
    assert.deepEqual(withLinks, loadConfig({ env: DECLARED }));
    assert.equal(withLinks.message_service.host, '0.0.0.0', 'the declared host wins, as in the pod');
    assert.equal(withLinks.message_service.port, 6000, "the Service's port 80 is not read as message_service.port");
    // One warning per Service, naming each variable passed over, for the process to log.
    const warnings = configWarnings(withLinks);
    assert.deepEqual(
      warnings.map((w) => /Service (\S+) /.exec(w)?.[1]),
      ['im-ingest', 'im-message', 'im-redis'],
    );
    const named = warnings.join(' ');
    for (const v of Object.keys(LINKS)) if (v !== 'IM_MESSAGE_SERVICE_HOST') assert.ok(named.includes(v), `${v} is named in a warning`);
    assert.ok(!/IM_MESSAGE_SERVICE_HOST\b/.test(warnings[1]!), 'the declared IM_MESSAGE_SERVICE_HOST is a setting, not in the warning');
    assert.deepEqual(configWarnings(loadConfig({ env: DECLARED })), [], 'no links, no warning');
  });

  it('are not read as settings where the pod declares none: message_service.host stays the default', () => {
    const { IM_MESSAGE_SERVICE_HOST: _, ...declared } = DECLARED;
    const config = loadConfig({ env: podEnv(declared, LINKS) });
    assert.equal(config.message_service.host, '127.0.0.1', 'not the cluster IP 10.96.12.7');
    assert.equal(config.message_service.port, 6000);
  });

  it('are recognised by shape only: a Service whose name collides with a setting (im-metrics) is skipped, a real setting is read', () => {
    const links = serviceLinks([{ name: 'im-metrics', clusterIP: '10.96.0.9', ports: [{ port: 9090 }] }]);
    assert.equal(links.IM_METRICS_PORT, 'tcp://10.96.0.9:9090');
    assert.equal(loadConfig({ env: podEnv({}, links) }).metrics.port, 0, 'IM_METRICS_PORT=tcp://... is a link, not metrics.port');
    assert.equal(loadConfig({ env: { IM_MESSAGE_SERVICE_PORT: '80' } }).message_service.port, 80, 'without its IM_MESSAGE_PORT link the variable is a setting');
    assert.equal(loadConfig({ env: podEnv({ IM_MESSAGE_SERVICE_PORT: '7000' }, LINKS) }).message_service.port, 7000, 'a value the link would not have written is a setting');
  });

  it('leave other mistakes refused: an unknown IM_* name, and a _PORT value that is no link', () => {
    assert.throws(() => loadConfig({ env: podEnv({ IM_MESSAGE_SERVICE_PROT: '6000' }, LINKS) }), /IM_MESSAGE_SERVICE_PROT: unknown key/);
    assert.throws(() => loadConfig({ env: { IM_INGEST_PORT: 'http://10.96.40.2:6000' } }), /IM_INGEST_PORT: unknown key/);
    assert.throws(() => loadConfig({ env: { IM_METRICS_PORT: 'tcp://10.96.0.9:9090/x' } }), /IM_METRICS_PORT: expected an integer/);
  });
});
