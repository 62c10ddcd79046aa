import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<string, any>;

const SUPPORTED = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'images', 'patches', 'labels']);
const CLUSTER_SCOPED = new Set(['Namespace']);

/**
 * Renders a kustomization the way `kubectl kustomize` does, for the subset infra/k8s uses
 * (resources, namespace, labels, images, JSON 6902 patches), so npm test can check the manifests
 * on a machine without kubectl. A field outside that subset is an error, not silently skipped;
 * where kubectl exists the test compares both renders.
 */
export function kustomize(dir: string): K8sObject[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
  for (const key of Object.keys(k)) if (!SUPPORTED.has(key)) throw new Error(`${dir}/kustomization.yaml: "${key}" is not supported by the test's renderer`);
  const objects: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    const path = join(dir, r);
    if (statSync(path).isDirectory()) objects.push(...kustomize(path));
    else for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) if (doc.contents) objects.push(doc.toJS() as K8sObject);
  }
  for (const l of k.labels ?? []) {
    if (Object.keys(l).some((key) => key !== 'pairs')) throw new Error('labels: only pairs (no selectors or templates) are supported');
    for (const o of objects) o.metadata.labels = { ...o.metadata.labels, ...l.pairs };
  }
  if (k.namespace) for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  for (const img of k.images ?? []) {
    for (const o of objects) {
      for (const c of containersOf(o)) {
        if (c.image.split(/[:@]/)[0] === img.name) c.image = `${img.newName ?? img.name}${img.newTag ? `:${img.newTag}` : ''}`;
      }
    }
  }
  for (const p of k.patches ?? []) {
    const targets = objects.filter((o) => o.kind === p.target.kind && o.metadata.name === p.target.name);
    if (targets.length !== 1) throw new Error(`patch target ${p.target.kind}/${p.target.name} matches ${targets.length} objects`);
    for (const op of parse(p.patch)) applyOp(targets[0]!, op);
  }
  return objects;
}

export function containersOf(o: K8sObject): Array<{ name: string; image: string } & Record<string, any>> {
  const spec = o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

function applyOp(target: Record<string, any>, op: { op: string; path: string; value?: unknown }): void {
  const parts = op.path.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const last = parts.pop()!;
  let node: any = target;
  for (const part of parts) {
    if (node[part] === undefined) throw new Error(`patch path ${op.path} does not exist`);
    node = node[part];
  }
  if (op.op === 'add') {
    if (Array.isArray(node)) node.splice(last === '-' ? node.length : Number(last), 0, op.value);
    else node[last] = op.value;
  } else if (op.op === 'replace') {
    if (!(last in node)) throw new Error(`patch path ${op.path} does not exist`);
    node[last] = op.value;
  } else if (op.op === 'remove') {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else {
    throw new Error(`patch op ${op.op} is not supported by the test's renderer`);
  }
}
