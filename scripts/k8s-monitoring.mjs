// npm run k8s:monitoring: writes the alert rules and the Grafana dashboard as Kubernetes objects,
// from the files docker compose loads, so both deployments alert and chart alike:
//   infra/prometheus/alerts.yml               -> infra/k8s/base/alerts.yaml     (PrometheusRule)
//   infra/grafana/dashboards/im-message.json  -> infra/k8s/base/dashboard.yaml  (ConfigMap for Grafana's sidecar)
// test/deploy/k8s.test.ts fails while the written files differ from what this makes of the sources.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ALERTS_SOURCE = 'infra/prometheus/alerts.yml';
export const DASHBOARD_SOURCE = 'infra/grafana/dashboards/im-message.json';

const header = (source) =>
  `# Generated from ${source} by npm run k8s:monitoring (scripts/k8s-monitoring.mjs): edit that file\n` +
  '# and run it again; npm test fails while this one differs.\n';

/** The text of each generated file, by its path in the repository. */
export function monitoringManifests(root = ROOT) {
  const alerts = parse(readFileSync(join(root, ALERTS_SOURCE), 'utf8'));
  const rule = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'alerts' }, spec: alerts };
  const dashboard = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'dashboard',
      // What Grafana's dashboard sidecar looks for (kube-prometheus-stack: grafana.sidecar.dashboards.label, labelValue).
      labels: { grafana_dashboard: '1' },
    },
    data: { 'im-message.json': readFileSync(join(root, DASHBOARD_SOURCE), 'utf8') },
  };
  return {
    'infra/k8s/base/alerts.yaml': header(ALERTS_SOURCE) + stringify(rule, { lineWidth: 0 }),
    'infra/k8s/base/dashboard.yaml': header(DASHBOARD_SOURCE) + stringify(dashboard, { lineWidth: 0 }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const [path, text] of Object.entries(monitoringManifests())) {
    writeFileSync(join(ROOT, path), text);
    process.stdout.write(`wrote ${path}\n`);
  }
}
