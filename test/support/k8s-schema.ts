import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { K8sObject } from './kustomize';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Every kind the manifests may use: its model (kubernetes-models, generated from the Kubernetes
 * OpenAPI schema and the KEDA and Prometheus Operator CRDs) and that model's TypeScript type.
 */
export const MODELS: Record<string, { model: new (data: any) => { validate(): void }; module: string; type: string }> = {
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'autoscaling/v2/HorizontalPodAutoscaler': { model: HorizontalPodAutoscaler, module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', type: 'IHorizontalPodAutoscaler' },
  'batch/v1/Job': { model: Job, module: 'kubernetes-models/batch/v1/Job', type: 'IJob' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, module: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: 'IPodDisruptionBudget' },
  'v1/ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Namespace': { model: Namespace, module: 'kubernetes-models/v1/Namespace', type: 'INamespace' },
  'v1/Secret': { model: Secret, module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'keda.sh/v1alpha1/ScaledObject': { model: ScaledObject, module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', type: 'IScaledObject' },
  'keda.sh/v1alpha1/TriggerAuthentication': { model: TriggerAuthentication, module: '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication', type: 'ITriggerAuthentication' },
  'monitoring.coreos.com/v1/PodMonitor': { model: PodMonitor, module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor', type: 'IPodMonitor' },
  'monitoring.coreos.com/v1/PrometheusRule': { model: PrometheusRule, module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule', type: 'IPrometheusRule' },
  'monitoring.coreos.com/v1/ServiceMonitor': { model: ServiceMonitor, module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', type: 'IServiceMonitor' },
};

const key = (o: K8sObject) => `${o.apiVersion}/${o.kind}`;

/** The schema's own check (types, required fields, enums, formats); unknown fields pass it. */
export function schemaProblems(o: K8sObject): string | undefined {
  const m = MODELS[key(o)];
  if (!m) return `no schema for ${o.apiVersion} ${o.kind}: add it to MODELS`;
  // kustomize writes a long value of a Secret's data in lines of 76; the API server's base64
  // decoder (Go's encoding/base64) skips line breaks, the schema's "byte" format does not.
  const data = o.kind === 'Secret' && o.data ? Object.fromEntries(Object.entries<string>(o.data).map(([k, v]) => [k, v.replace(/[\r\n]/g, '')])) : undefined;
  try {
    new m.model(data ? { ...o, data } : o).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Fields no schema has, as the API server's strict field validation (kubectl apply's default)
 * refuses them: each object becomes a literal of its model's TypeScript type, and the compiler's
 * excess-property check names every unknown field at any depth (and every mistyped one). One
 * compile for every object given, about two seconds.
 */
export function unknownFields(objects: readonly { where: string; object: K8sObject }[]): string[] {
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'k8s-schema-'));
  try {
    const header = Object.values(MODELS).map((m, i) => `import type { ${m.type} as T${i} } from '${m.module}';`);
    const alias = new Map(Object.keys(MODELS).map((k, i) => [k, `T${i}`]));
    const lines = objects.map(({ object }, i) => `export const o${i}: ${alias.get(key(object)) ?? 'never'} = ${JSON.stringify(object)};`);
    const file = join(dir, 'objects.ts');
    writeFileSync(file, [...header, ...lines].join('\n'));
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      target: ts.ScriptTarget.ES2022,
      types: [],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line - header.length : -1;
      const o = objects[line];
      return `${o ? `${o.where}: ${o.object.kind}/${o.object.metadata.name}` : 'objects'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
