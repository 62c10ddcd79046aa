/** Types of scripts/k8s-monitoring.mjs for the test that holds the generated files to their sources. */
export const ALERTS_SOURCE: string;
export const DASHBOARD_SOURCE: string;
/** The text of each generated file, by its path in the repository. */
export function monitoringManifests(root?: string): Record<string, string>;
