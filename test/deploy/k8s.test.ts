import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { QueueKeys } from 'bullmq';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { environmentKeys, kubeletServiceLinks, loadConfig, type Config } from '@im/config';
import { QUEUES, type QueueName } from '@im/contracts';
import { topology } from '@im/redis';
import { opsPortOf, OPS_PATHS, ORDERED_STAGES, ROLES, SHUTDOWN_BUDGET_MS, type Role } from '@im/worker-kit';
import { monitoringManifests } from '../../scripts/k8s-monitoring.mjs';
import { schemaProblems, unknownFields } from '../support/k8s-schema';
import { containersOf, kustomize, kustomizeCommand, podSpecOf, type K8sObject } from '../support/kustomize';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const K8S = join(ROOT, 'infra/k8s');
const BASE = join(K8S, 'base');
const OVERLAY = join(K8S, 'overlays/example');
const CLUSTER = join(K8S, 'overlays/example-cluster');
const KUSTOMIZE = kustomizeCommand();

/**
 * What kube-prometheus-stack selects by (charts/kube-prometheus-stack/values.yaml): its Prometheus
 * takes PodMonitors and PrometheusRules labelled release=<Helm release> (the *SelectorNilUsesHelmValues
 * defaults) from every namespace; its Grafana sidecar takes ConfigMaps labelled grafana_dashboard="1"
 * from every namespace, and names its Prometheus data source uid "prometheus". The example overlays
 * are written for a release named kube-prometheus-stack.
 */
const KUBE_PROMETHEUS_STACK = { release: 'kube-prometheus-stack', dashboardLabel: ['grafana_dashboard', '1'], datasourceUid: 'prometheus' } as const;

/** The queue each scaled worker consumes. */
const SCALED: Partial<Record<Role, QueueName>> = { 'worker-persist': QUEUES.persist, 'worker-fanout': QUEUES.fanout, 'worker-delivery': QUEUES.deliver, 'worker-push': QUEUES.push };

const tmp = mkdtempSync(join(tmpdir(), 'im-k8s-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A kustomization of the test's own on top of the folder `base`, rendered as kubectl apply -k would. */
function renderOver(base: string, extra: Record<string, unknown>): K8sObject[] {
  const dir = mkdtempSync(join(tmp, 'overlay-'));
  // kustomize takes a relative path only.
  writeFileSync(join(dir, 'kustomization.yaml'), stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [relative(dir, base)], ...extra }));
  return kustomize(dir);
}

const matches = (selector: Record<string, string> = {}, labels: Record<string, string> = {}) => Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
const one = <T>(xs: T[], what: string): T => {
  assert.equal(xs.length, 1, `${xs.length} × ${what}`);
  return xs[0]!;
};
const ofKind = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);
const named = (objs: K8sObject[], kind: string, name: string) => one(objs.filter((o) => o.kind === kind && o.metadata.name === name), `${kind}/${name}`);
const podLabels = (o: K8sObject): Record<string, string> => o.spec.template.metadata.labels ?? {};
/** A role's Deployment, found by its pods' app.kubernetes.io/name (its name carries the overlay's prefix). */
const deploymentOf = (objs: K8sObject[], role: string) => one(ofKind(objs, 'Deployment').filter((d) => podLabels(d)['app.kubernetes.io/name'] === role), `Deployment of ${role}`);
const roleOf = (d: K8sObject) => podLabels(d)['app.kubernetes.io/name'] as Role;
const mainContainer = (d: K8sObject): Record<string, any> => one<Record<string, any>>(d.spec.template.spec.containers.filter((c: { name: string }) => c.name === roleOf(d)), `container ${roleOf(d)}`);

/** A Secret's values as a pod sees them (stringData, or data decoded). */
function secretValues(s: K8sObject): Record<string, string> {
  return { ...Object.fromEntries(Object.entries<string>(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])), ...(s.stringData ?? {}) };
}

/** A container's environment as the kubelet assembles it (service links off): envFrom in order, then env, which wins. */
function containerEnv(objs: K8sObject[], c: Record<string, any>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, named(objs, 'ConfigMap', from.configMapRef.name).data);
    else if (from.secretRef) Object.assign(env, secretValues(named(objs, 'Secret', from.secretRef.name)));
    else assert.fail(`envFrom ${JSON.stringify(from)}`);
  }
  for (const e of c.env ?? []) {
    assert.ok(typeof e.value === 'string', `${e.name}: only literal values are checked here`);
    env[e.name] = e.value;
  }
  return env;
}

/** The config of the fleet a render runs: what its ConfigMap and Secret give every role. */
function fleetConfig(objs: K8sObject[]): Config {
  return loadConfig({ env: containerEnv(objs, mainContainer(deploymentOf(objs, 'worker-persist'))) });
}

/** A container port by its name, or the number itself. */
const portNumber = (c: Record<string, any>, port: string | number) => (typeof port === 'number' ? port : c.ports?.find((p: { name: string }) => p.name === port)?.containerPort);

/**
 * What the Prometheus Operator scrapes of a Deployment's pods, and under which job
 * (pkg/prometheus/promcfg.go): a PodMonitor's target is named by the pod's jobLabel label, else
 * "<namespace>/<monitor>"; a ServiceMonitor's by the Service's jobLabel label, else the Service's name.
 */
function scrapeTargets(objs: K8sObject[], d: K8sObject): { job: string; port: number; path: string }[] {
  const c = mainContainer(d);
  const pods = ofKind(objs, 'PodMonitor')
    .filter((m) => matches(m.spec.selector.matchLabels, podLabels(d)))
    .flatMap((m) => m.spec.podMetricsEndpoints.map((e: any) => ({ job: (m.spec.jobLabel && podLabels(d)[m.spec.jobLabel]) || `${m.metadata.namespace ?? 'im-message'}/${m.metadata.name}`, port: portNumber(c, e.port), path: e.path })));
  const services = ofKind(objs, 'Service').filter((svc) => matches(svc.spec.selector, podLabels(d)));
  const viaServices = ofKind(objs, 'ServiceMonitor').flatMap((m) =>
    services
      .filter((svc) => matches(m.spec.selector.matchLabels, svc.metadata.labels))
      .flatMap((svc) =>
        m.spec.endpoints.map((e: any) => ({ job: (m.spec.jobLabel && svc.metadata.labels?.[m.spec.jobLabel]) || svc.metadata.name, port: portNumber(c, svc.spec.ports.find((p: any) => p.name === e.port)?.targetPort), path: e.path })),
      ),
  );
  return [...pods, ...viaServices];
}

const RENDERS = [
  ['base', BASE],
  ['example overlay', OVERLAY],
  ['example-cluster overlay', CLUSTER],
] as const;
const rendered = new Map(RENDERS.map(([what, dir]) => [what, kustomize(dir)]));

describe(`Kubernetes manifests, rendered by the real kustomize (${KUSTOMIZE.version})`, () => {
  it('every object validates against its Kubernetes, KEDA or Prometheus Operator schema, unknown fields refused as kubectl apply refuses them', () => {
    const all = [...rendered].flatMap(([where, objs]) => objs.map((object) => ({ where, object })));
    assert.ok(all.length >= 60, `${all.length} objects`);
    assert.deepEqual(
      all.flatMap(({ where, object }) => {
        const p = schemaProblems(object);
        return p ? [`${where}: ${object.kind}/${object.metadata.name}: ${p}`] : [];
      }),
      [],
    );
    assert.deepEqual(unknownFields(all), []);
  });

  it('a schema check can fail: a wrong type and an unknown field are refused', () => {
    const d = structuredClone(deploymentOf(rendered.get('base')!, 'ingest-api'));
    d.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    assert.match(schemaProblems(d) ?? '', /containerPort must be integer/);
    const typo = structuredClone(deploymentOf(rendered.get('base')!, 'ingest-api'));
    typo.spec.template.spec.enableServiceLink = false;
    const problems = unknownFields([{ where: 'typo', object: typo }]);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, /typo: Deployment\/ingest-api: .*'"enableServiceLink"' does not exist in type 'IPodSpec'/);
  });

  it('the monitoring objects are generated from infra/prometheus/alerts.yml and the Grafana dashboard, and equal them', () => {
    for (const [path, text] of Object.entries(monitoringManifests())) {
      assert.equal(readFileSync(join(ROOT, path), 'utf8'), text, `${path} is stale: run npm run k8s:monitoring`);
    }
    const base = rendered.get('base')!;
    const rule = one(ofKind(base, 'PrometheusRule'), 'PrometheusRule');
    const { metadata: _, ...ruleLabels } = rule.metadata.labels ?? {};
    assert.deepEqual(rule.spec, parse(readFileSync(join(ROOT, 'infra/prometheus/alerts.yml'), 'utf8')), 'the same groups, rules and expressions');
    assert.ok(ruleLabels);
    const dashboards = ofKind(base, 'ConfigMap').filter((c) => c.metadata.labels?.[KUBE_PROMETHEUS_STACK.dashboardLabel[0]] === KUBE_PROMETHEUS_STACK.dashboardLabel[1]);
    const json = one(dashboards, 'dashboard ConfigMap').data['im-message.json'];
    assert.deepEqual(JSON.parse(json), JSON.parse(readFileSync(join(ROOT, 'infra/grafana/dashboards/im-message.json'), 'utf8')));
  });
});

for (const [what, dir] of RENDERS) {
  describe(`Kubernetes manifests: ${what}`, () => {
    const objs = rendered.get(what)!;
    const config = fleetConfig(objs);

    it('every workload has service links off: no variables for the namespace\'s Services, whose names can be spelled like settings', () => {
      const workloads = objs.filter((o) => podSpecOf(o));
      assert.ok(workloads.length >= ROLES.length);
      for (const w of workloads) assert.equal(podSpecOf(w)!.enableServiceLinks, false, `${w.kind}/${w.metadata.name}`);
      // Were they on, the variables of this render's own Services would still neither stop a role nor change its config.
      const links = kubeletServiceLinks(ofKind(objs, 'Service').map((s, i) => ({ name: s.metadata.name, clusterIP: `10.96.0.${i + 10}`, ports: s.spec.ports })));
      assert.ok(Object.keys(links).length > 0);
      for (const role of ROLES) {
        const env = containerEnv(objs, mainContainer(deploymentOf(objs, role)));
        assert.deepEqual(loadConfig({ env: { ...links, ...env } }), loadConfig({ env }), role);
      }
    });

    it('a Deployment per role: probes on the paths and ports the code serves, resources, grace above the shutdown budget, non-root', () => {
      for (const role of ROLES) {
        const d = deploymentOf(objs, role);
        const pod = d.spec.template.spec;
        assert.ok(matches(d.spec.selector.matchLabels, podLabels(d)), `${role}: its selector matches its pods`);
        const c = mainContainer(d);
        assert.deepEqual(c.args, [role], `${role} runs its own role`);
        const cfg = loadConfig({ env: containerEnv(objs, c) });
        const ops = opsPortOf(role, cfg);
        assert.equal(portNumber(c, c.startupProbe.httpGet.port), ops, `${role}: startup probe on the ops port`);
        assert.equal(portNumber(c, c.livenessProbe.httpGet.port), ops, `${role}: liveness probe on the ops port`);
        assert.equal(c.startupProbe.httpGet.path, OPS_PATHS.health);
        assert.equal(c.livenessProbe.httpGet.path, OPS_PATHS.health);
        assert.equal(c.readinessProbe.httpGet.path, OPS_PATHS.ready);
        const readyOn = portNumber(c, c.readinessProbe.httpGet.port);
        if (role === 'ingest-api') {
          assert.equal(portNumber(c, 'http'), cfg.message_service.port, 'the http port is the one ingest listens on');
          assert.equal(portNumber(c, 'grpc'), cfg.message_service.grpc_port);
          assert.equal(readyOn, cfg.message_service.port, 'readiness on the port the Service sends to');
        } else {
          assert.equal(readyOn, ops);
        }
        assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, `${role}: resources`);
        const preStop = c.lifecycle?.preStop?.exec?.command?.[0] === 'sleep' ? Number(c.lifecycle.preStop.exec.command[1]) : 0;
        assert.ok(pod.terminationGracePeriodSeconds * 1000 > SHUTDOWN_BUDGET_MS + preStop * 1000, `${role}: grace ${pod.terminationGracePeriodSeconds} s`);
        assert.equal(pod.securityContext.runAsNonRoot, true);
        for (const k of containersOf(d)) assert.equal(k.securityContext.readOnlyRootFilesystem, true, `${role}/${k.name}`);
        assert.ok(pod.volumes.some((v: { name: string; emptyDir?: object }) => v.name === 'tmp' && v.emptyDir), `${role}: a writable /tmp`);
      }
    });

    it("every role's pod migrates the schema of its own image before it starts, waiting for MySQL; no Job to re-create", () => {
      assert.deepEqual(ofKind(objs, 'Job'), []);
      for (const role of ROLES) {
        const d = deploymentOf(objs, role);
        const [init, ...more] = d.spec.template.spec.initContainers ?? [];
        assert.equal(more.length, 0);
        assert.equal(init?.name, 'migrate', `${role}: an init container migrates`);
        assert.equal(init.image, mainContainer(d).image, `${role}: the migrations of the image the role runs`);
        assert.deepEqual(init.args.slice(0, 2), ['migrate', '--wait']);
        assert.ok(Number(init.args[2]) >= 60, `${role}: waits for MySQL`);
        assert.deepEqual(loadConfig({ env: containerEnv(objs, init) }).mysql, loadConfig({ env: containerEnv(objs, mainContainer(d)) }).mysql, `${role}: the same database`);
      }
    });

    it('every container reads variables the config knows, from a ConfigMap and Secret that exist, and they pass its schema', () => {
      const known = environmentKeys();
      for (const o of objs) {
        for (const c of containersOf(o)) {
          const env = containerEnv(objs, c);
          const unknown = Object.keys(env).filter((n) => !known.has(n));
          assert.deepEqual(unknown, [], `${o.kind}/${o.metadata.name}/${c.name}: variables no setting reads`);
          const loaded = loadConfig({ env });
          assert.equal(loaded.message_service.host, '0.0.0.0', 'probes and Prometheus reach the pod address');
          assert.equal(loaded.dashboard.host, '127.0.0.1', 'the tokenless dashboard stays on loopback');
          assert.ok(loaded.auth.api_tokens.length > 0);
        }
      }
    });

    it('every reference resolves, prefixes and generated names included: KEDA targets, credentials, HPA, Services, budgets', () => {
      const deployments = ofKind(objs, 'Deployment');
      for (const so of ofKind(objs, 'ScaledObject')) {
        named(objs, 'Deployment', so.spec.scaleTargetRef.name);
        for (const t of so.spec.triggers) {
          const auth = named(objs, 'TriggerAuthentication', t.authenticationRef.name);
          for (const ref of auth.spec.secretTargetRef) assert.ok(ref.key in secretValues(named(objs, 'Secret', ref.name)), `${ref.name} has ${ref.key}`);
        }
      }
      const hpa = one(ofKind(objs, 'HorizontalPodAutoscaler'), 'HPA');
      assert.equal(named(objs, 'Deployment', hpa.spec.scaleTargetRef.name), deploymentOf(objs, 'ingest-api'));
      for (const svc of ofKind(objs, 'Service')) {
        const d = one(deployments.filter((x) => matches(svc.spec.selector, podLabels(x))), `Deployment behind Service ${svc.metadata.name}`);
        for (const p of svc.spec.ports) assert.ok(portNumber(mainContainer(d), p.targetPort), `${svc.metadata.name}:${p.name} targets a port of ${roleOf(d)}`);
      }
      const budgets = ofKind(objs, 'PodDisruptionBudget');
      for (const role of ROLES) {
        const pdb = one(budgets.filter((b) => matches(b.spec.selector.matchLabels, podLabels(deploymentOf(objs, role)))), `PodDisruptionBudget of ${role}`);
        assert.equal(deployments.filter((x) => matches(pdb.spec.selector.matchLabels, podLabels(x))).length, 1, `${pdb.metadata.name} covers one role`);
        assert.equal(pdb.spec.maxUnavailable, 1, `${role}: one pod at a time`);
        assert.equal(pdb.spec.unhealthyPodEvictionPolicy, 'AlwaysAllow', `${role}: a pod that is not ready never blocks a drain`);
      }
    });

    it('no Service exposes /metrics: ingest-api serves it on an ops port its Service does not route to', () => {
      for (const svc of ofKind(objs, 'Service')) {
        const d = one(ofKind(objs, 'Deployment').filter((x) => matches(svc.spec.selector, podLabels(x))), `Deployment behind ${svc.metadata.name}`);
        const c = mainContainer(d);
        const cfg = loadConfig({ env: containerEnv(objs, c) });
        for (const p of svc.spec.ports) assert.notEqual(portNumber(c, p.targetPort), opsPortOf(roleOf(d), cfg), `${svc.metadata.name}:${p.name} reaches /metrics`);
      }
    });

    it("KEDA scales each stage on every shard's wait list, reaching Redis with the roles' own address, credentials and TLS", () => {
      const topo = topology({ prefix: config.queue.prefix, shards: config.queue.shards });
      const cluster = config.queue.cluster_nodes.length > 0;
      const scaled = ofKind(objs, 'ScaledObject');
      assert.deepEqual(scaled.map((s) => roleOf(named(objs, 'Deployment', s.spec.scaleTargetRef.name))).sort(), Object.keys(SCALED).sort());
      for (const s of scaled) {
        const d = named(objs, 'Deployment', s.spec.scaleTargetRef.name);
        const queue = SCALED[roleOf(d)]!;
        assert.equal(d.spec.replicas, undefined, `${roleOf(d)}: replicas belong to KEDA`);
        assert.deepEqual(
          s.spec.triggers.map((t: any) => t.metadata.listName),
          topo.all.map((shard) => new QueueKeys(shard.queuePrefix).getKeys(queue).wait),
          `${roleOf(d)}: one trigger per shard, on the key BullMQ waits in`,
        );
        for (const t of s.spec.triggers) {
          assert.equal(t.type, cluster ? 'redis-cluster' : 'redis');
          assert.ok(Number(t.metadata.listLength) <= config.queue.queue_size / 10, `target ${t.metadata.listLength}`);
          // What KEDA connects with, from the Secret, against where the roles connect.
          const auth = named(objs, 'TriggerAuthentication', t.authenticationRef.name);
          const keda = Object.fromEntries(auth.spec.secretTargetRef.map((r: any) => [r.parameter, secretValues(named(objs, 'Secret', r.name))[r.key]]));
          const url = new URL(config.queue.redis_url);
          if (cluster) assert.deepEqual(keda.addresses.split(','), config.queue.cluster_nodes);
          else assert.equal(keda.address, url.host);
          assert.equal(keda.username ?? '', decodeURIComponent(url.username));
          assert.equal(keda.password ?? '', decodeURIComponent(url.password));
          assert.equal(keda.tls, url.protocol === 'rediss:' ? 'enable' : 'disable');
        }
        assert.ok(s.spec.minReplicaCount >= 1 && s.spec.maxReplicaCount > s.spec.minReplicaCount - 1);
        if (config.queue.ordered && ORDERED_STAGES.includes(queue)) assert.ok(s.spec.maxReplicaCount <= topo.shards, `${roleOf(d)}: ordered, a shard's queue runs one job at a time: at most one process per shard (${s.spec.maxReplicaCount} > ${topo.shards})`);
      }
      assert.equal(deploymentOf(objs, 'ingest-api').spec.replicas, undefined, 'replicas belong to the HPA');
    });

    it('Prometheus Operator: every pod scraped on its ops port, each job named after its role, so RoleDown stays quiet while all run', (t) => {
      const jobs = new Map<string, Role>();
      for (const role of ROLES) {
        const d = deploymentOf(objs, role);
        const targets = scrapeTargets(objs, d);
        const target = one(targets, `monitor of ${role}`);
        assert.equal(target.path, OPS_PATHS.metrics);
        assert.equal(target.port, opsPortOf(role, loadConfig({ env: containerEnv(objs, mainContainer(d)) })), `${role}: scraped where /metrics is`);
        jobs.set(target.job, role);
      }
      assert.deepEqual([...jobs.keys()].sort(), [...ROLES].sort(), 'job = role, as the alerts and the dashboard expect');
      const dashboard = JSON.parse(one(ofKind(objs, 'ConfigMap').filter((c) => c.data?.['im-message.json']), 'dashboard').data['im-message.json']);
      const roleVar = dashboard.templating.list.find((v: { name: string }) => v.name === 'role');
      assert.deepEqual(/job=~"([^"]+)"/.exec(roleVar.query.query)?.[1]?.split('|').sort(), [...ROLES].sort(), "the dashboard's $role lists the roles' jobs only");

      // RoleDown, run by promtool on series labelled as the operator labels them.
      if (spawnSync('promtool', ['--version']).error) return t.skip('promtool is not installed (Debian package prometheus)');
      const rule = one(ofKind(objs, 'PrometheusRule'), 'PrometheusRule');
      const dir = mkdtempSync(join(tmp, 'rules-'));
      writeFileSync(join(dir, 'rules.yml'), stringify(rule.spec));
      const series = (roles: string[]) => roles.map((r) => ({ series: `up{job="${[...jobs].find(([, x]) => x === r)![0]}", namespace="im-message", pod="${r}-0"}`, values: '1x10' }));
      const down = ROLES.filter((r) => r !== 'worker-persist');
      writeFileSync(
        join(dir, 'test.yml'),
        stringify({
          rule_files: ['rules.yml'],
          evaluation_interval: '1m',
          tests: [
            { interval: '1m', input_series: series([...ROLES]), alert_rule_test: [{ eval_time: '5m', alertname: 'RoleDown', exp_alerts: [] }] },
            { interval: '1m', input_series: series(down), alert_rule_test: [{ eval_time: '5m', alertname: 'RoleDown', exp_alerts: [{ exp_labels: { severity: 'page', job: 'worker-persist' }, exp_annotations: ruleAnnotations(rule, 'RoleDown', 'worker-persist') }] }] },
          ],
        }),
      );
      const r = spawnSync('promtool', ['test', 'rules', join(dir, 'test.yml')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    if (what !== 'base') {
      it('kube-prometheus-stack picks the monitor and the rules up by its release label, and the dashboard by its sidecar label', () => {
        for (const o of [...ofKind(objs, 'PodMonitor'), ...ofKind(objs, 'PrometheusRule')]) assert.equal(o.metadata.labels?.release, KUBE_PROMETHEUS_STACK.release, `${o.kind}/${o.metadata.name}`);
        const [label, value] = KUBE_PROMETHEUS_STACK.dashboardLabel;
        const cm = one(ofKind(objs, 'ConfigMap').filter((c) => c.metadata.labels?.[label] === value), 'dashboard ConfigMap');
        const uids = new Set<string>();
        JSON.stringify(JSON.parse(cm.data['im-message.json']), (k, v) => (k === 'datasource' && v?.type === 'prometheus' ? (uids.add(v.uid), v) : v));
        assert.deepEqual([...uids], [KUBE_PROMETHEUS_STACK.datasourceUid], "every panel queries the chart's Prometheus data source");
        for (const o of objs) if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, 'im-message', `${o.kind}/${o.metadata.name}`);
        for (const o of objs) for (const c of containersOf(o)) assert.match(c.image, /^registry\.example\.com\/im-message:\d+\.\d+\.\d+$/);
        assert.ok(objs.every((o) => o.kind === 'Namespace' || o.metadata.name.startsWith('im-')), 'the name prefix reaches every object');
      });
    }

    it('renders as kubectl kustomize does, where kubectl is installed', (t) => {
      const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
      if (r.error) return t.skip(`kubectl is not installed: rendered with kustomize ${KUSTOMIZE.version} only`);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(objs, parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject));
    });
  });
}

/** The annotations RoleDown gets for a job, as promtool expands them. */
function ruleAnnotations(rule: K8sObject, alert: string, job: string): Record<string, string> {
  const r = rule.spec.groups.flatMap((g: any) => g.rules).find((x: any) => x.alert === alert);
  return Object.fromEntries(Object.entries<string>(r.annotations).map(([k, v]) => [k, v.replaceAll('{{ $labels.job }}', job)]));
}

describe('Kubernetes example overlay, applied again and beside another install', () => {
  const objs = rendered.get('example overlay')!;

  it('re-applies with a new release: no object that keeps its name changes a field Kubernetes will not change in place', () => {
    const next = renderOver(OVERLAY, { images: [{ name: 'registry.example.com/im-message', newTag: '0.2.0' }] });
    assert.ok(next.some((o) => containersOf(o).some((c) => c.image.endsWith(':0.2.0'))), 'the second render is the next release');
    const immutable: Record<string, (o: K8sObject) => unknown> = {
      Job: (o) => [o.spec.template, o.spec.selector],
      Deployment: (o) => o.spec.selector,
      StatefulSet: (o) => [o.spec.selector, o.spec.serviceName, o.spec.volumeClaimTemplates],
      Service: (o) => [o.spec.clusterIP, o.spec.type === 'ExternalName'],
      ConfigMap: (o) => (o.immutable ? o.data : undefined),
      Secret: (o) => (o.immutable ? o.data : undefined),
    };
    for (const o of next) {
      const before = objs.find((x) => x.kind === o.kind && x.metadata.name === o.metadata.name);
      const fields = immutable[o.kind];
      if (before && fields) assert.deepEqual(fields(o), fields(before), `${o.kind}/${o.metadata.name} would be refused ("field is immutable")`);
    }
  });

  it('two installs in one namespace, told apart by prefix and instance label, select none of each other\'s pods', () => {
    const install = (name: string) => renderOver(OVERLAY, { namePrefix: `${name}-`, labels: [{ pairs: { 'app.kubernetes.io/instance': name }, includeSelectors: true }] });
    const [blue, green] = [install('blue'), install('green')];
    const names = (xs: K8sObject[]) => new Set(xs.filter((o) => o.kind !== 'Namespace').map((o) => `${o.kind}/${o.metadata.name}`));
    const greenNames = names(green);
    assert.deepEqual([...names(blue)].filter((n) => greenNames.has(n)), []);
    const selectors = (xs: K8sObject[]) => [
      ...ofKind(xs, 'Deployment').map((o) => o.spec.selector.matchLabels),
      ...ofKind(xs, 'Service').map((o) => o.spec.selector),
      ...ofKind(xs, 'PodDisruptionBudget').map((o) => o.spec.selector.matchLabels),
      ...ofKind(xs, 'PodMonitor').map((o) => o.spec.selector.matchLabels),
    ];
    for (const [a, b] of [
      [blue, green],
      [green, blue],
    ] as const) {
      for (const sel of selectors(a)) for (const d of ofKind(b, 'Deployment')) assert.ok(!matches(sel, podLabels(d)), `${JSON.stringify(sel)} selects ${d.metadata.name}`);
    }
  });
});
