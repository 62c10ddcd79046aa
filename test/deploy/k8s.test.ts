import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { QueueKeys } from 'bullmq';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { loadConfig } from '@im/config';
import { QUEUES } from '@im/contracts';
import { DEFAULT_OPS_PORT, ROLES, SHUTDOWN_BUDGET_MS } from '@im/worker-kit';
import { containersOf, kustomize, type K8sObject } from '../support/kustomize';

const K8S = fileURLToPath(new URL('../../infra/k8s/', import.meta.url));
const BASE = `${K8S}base`;
const OVERLAY = `${K8S}overlays/example`;

/** Schema validation of every kind the manifests use (kubernetes-models, @kubernetes-models/*). */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

/** The queue each scaled worker consumes. */
const SCALED: Record<string, string> = { 'worker-persist': QUEUES.persist, 'worker-fanout': QUEUES.fanout, 'worker-delivery': QUEUES.deliver };

const find = (objs: K8sObject[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind}/${name} is missing`);
  return o;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

for (const [what, dir] of [
  ['base', BASE],
  ['example overlay', OVERLAY],
] as const) {
  describe(`Kubernetes manifests: ${what} (infra/k8s, validated offline)`, () => {
    const objs = kustomize(dir);

    it('every object validates against its Kubernetes, KEDA or Prometheus Operator schema', () => {
      assert.ok(objs.length >= 15, `${objs.length} objects`);
      for (const o of objs) {
        const Model = MODELS[`${o.apiVersion}/${o.kind}`];
        assert.ok(Model, `no schema for ${o.apiVersion} ${o.kind}: add it to MODELS`);
        assert.doesNotThrow(() => new Model(o).validate(), `${o.kind}/${o.metadata.name}`);
      }
    });

    it('a schema check can fail: a wrong type is refused', () => {
      const d = structuredClone(find(objs, 'Deployment', 'ingest-api'));
      d.spec.template.spec.containers[0].ports[0].containerPort = 'http';
      assert.throws(() => new Deployment(d as never).validate(), /containerPort must be integer/);
    });

    it('a Deployment per role, with probes on /health and /ready, resources, and a grace period above the shutdown budget', () => {
      for (const role of ROLES) {
        const d = find(objs, 'Deployment', role);
        const pod = d.spec.template.spec;
        assert.deepEqual(d.spec.selector.matchLabels, { 'app.kubernetes.io/name': role });
        assert.ok(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels));
        const [c] = pod.containers;
        assert.deepEqual(c.args, [role], `${role} runs its own role`);
        const port = (name: string) => c.ports.find((p: { name: string }) => p.name === name)?.containerPort;
        assert.equal(port(c.livenessProbe.httpGet.port), DEFAULT_OPS_PORT[role], `${role}: probes go to the role's ops port`);
        assert.equal(c.livenessProbe.httpGet.path, '/health');
        assert.equal(c.startupProbe.httpGet.path, '/health');
        assert.equal(c.readinessProbe.httpGet.path, '/ready');
        assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, `${role}: resources`);
        const preStop = c.lifecycle?.preStop?.exec?.command?.[0] === 'sleep' ? Number(c.lifecycle.preStop.exec.command[1]) : 0;
        assert.ok(pod.terminationGracePeriodSeconds * 1000 > SHUTDOWN_BUDGET_MS + preStop * 1000, `${role}: grace ${pod.terminationGracePeriodSeconds} s`);
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.ok(pod.volumes.some((v: { name: string; emptyDir?: object }) => v.name === 'tmp' && v.emptyDir), `${role}: a writable /tmp`);
      }
      const migrate = find(objs, 'Job', 'im-message-migrate');
      assert.deepEqual(migrate.spec.template.spec.containers[0].args, ['migrate']);
    });

    it('the config and secrets every container reads exist and pass the real config schema', () => {
      const config = find(objs, 'ConfigMap', 'im-message-config');
      const secret = find(objs, 'Secret', 'im-message-secrets');
      for (const o of objs) {
        for (const c of containersOf(o)) {
          const refs = (c.envFrom ?? []).map((e: any) => e.configMapRef?.name ?? e.secretRef?.name);
          assert.deepEqual(refs, ['im-message-config', 'im-message-secrets'], `${o.kind}/${o.metadata.name}`);
        }
      }
      // Exactly what a container's environment holds; KEDA's own keys are not IM_* and are ignored by the config.
      const env = { ...config.data, ...secret.stringData };
      const loaded = loadConfig({ env });
      assert.equal(loaded.message_service.host, '0.0.0.0', 'probes and Prometheus reach the pod address');
      assert.equal(loaded.dashboard.host, '127.0.0.1', 'the tokenless dashboard stays on loopback');
      assert.ok(loaded.auth.api_tokens.length > 0);
    });

    it('KEDA scales persist, fan-out and delivery on their waiting lists, starting well below queue_size', () => {
      const config = find(objs, 'ConfigMap', 'im-message-config');
      const loaded = loadConfig({ env: { ...config.data } });
      const keys = new QueueKeys(loaded.queue.prefix);
      const scaled = objs.filter((o) => o.kind === 'ScaledObject');
      assert.deepEqual(scaled.map((s) => s.spec.scaleTargetRef.name).sort(), Object.keys(SCALED).sort());
      for (const s of scaled) {
        const role = s.spec.scaleTargetRef.name;
        find(objs, 'Deployment', role);
        assert.equal(find(objs, 'Deployment', role).spec.replicas, undefined, `${role}: replicas belong to KEDA`);
        for (const t of s.spec.triggers) {
          assert.equal(t.type, 'redis');
          assert.equal(t.metadata.listName, keys.getKeys(SCALED[role]!).wait, `${role} watches its own queue's wait list`);
          assert.ok(Number(t.metadata.listLength) <= loaded.queue.queue_size / 10, `${role}: target ${t.metadata.listLength}`);
          find(objs, 'TriggerAuthentication', t.authenticationRef.name);
        }
        assert.ok(s.spec.minReplicaCount >= 1 && s.spec.maxReplicaCount > s.spec.minReplicaCount);
      }
      const hpa = find(objs, 'HorizontalPodAutoscaler', 'ingest-api');
      assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ingest-api' });
      assert.equal(find(objs, 'Deployment', 'ingest-api').spec.replicas, undefined, 'replicas belong to the HPA');
    });

    it('Prometheus scrapes ingest-api through its Service and every worker pod', () => {
      const svc = find(objs, 'Service', 'ingest-api');
      const sm = find(objs, 'ServiceMonitor', 'ingest-api');
      assert.ok(matches(sm.spec.selector.matchLabels, svc.metadata.labels));
      assert.ok(svc.spec.ports.some((p: { name: string }) => p.name === sm.spec.endpoints[0].port));
      assert.ok(matches(svc.spec.selector, find(objs, 'Deployment', 'ingest-api').spec.template.metadata.labels));
      const pm = find(objs, 'PodMonitor', 'im-message-workers');
      for (const role of ROLES.filter((r) => r !== 'ingest-api')) {
        const d = find(objs, 'Deployment', role);
        assert.ok(matches(pm.spec.selector.matchLabels, d.spec.template.metadata.labels), `${role} is scraped`);
        assert.ok(d.spec.template.spec.containers[0].ports.some((p: { name: string }) => p.name === pm.spec.podMetricsEndpoints[0].port));
      }
    });

    it('renders as kubectl kustomize does, where kubectl is installed', (t) => {
      const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
      if (r.error) return t.skip('kubectl is not installed: the manifests were checked with the test renderer only');
      assert.equal(r.status, 0, r.stderr);
      const theirs = parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
      const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
      const sort = (xs: K8sObject[]) => [...xs].sort((a, b) => key(a).localeCompare(key(b)));
      assert.deepEqual(sort(objs), sort(theirs));
    });
  });
}

describe('Kubernetes example overlay', () => {
  it('pins the image, puts everything in its namespace, and replaces the placeholder secrets', () => {
    const objs = kustomize(OVERLAY);
    for (const o of objs) if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, 'im-message', `${o.kind}/${o.metadata.name}`);
    for (const o of objs) for (const c of containersOf(o)) assert.match(c.image, /^registry\.example\.com\/im-message:\d+\.\d+\.\d+$/);
    assert.notEqual(find(objs, 'Secret', 'im-message-secrets').stringData.IM_API_TOKENS, find(kustomize(BASE), 'Secret', 'im-message-secrets').stringData.IM_API_TOKENS);
    assert.equal(find(objs, 'ScaledObject', 'worker-delivery').spec.maxReplicaCount, 40);
  });
});
