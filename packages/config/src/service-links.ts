/**
 * Kubernetes service links. Unless a pod sets `enableServiceLinks: false`, the kubelet writes into
 * it, for every Service of its namespace, Docker-link style variables named after the Service
 * (upper case, `-` as `_`):
 *
 *   <NAME>_SERVICE_HOST=<cluster IP>          <NAME>_PORT=tcp://<cluster IP>:<first port>
 *   <NAME>_SERVICE_PORT=<first port>          <NAME>_PORT_<port>_TCP=tcp://<cluster IP>:<port>
 *   <NAME>_SERVICE_PORT_<PORT NAME>=<port>    <NAME>_PORT_<port>_TCP_PROTO|_PORT|_ADDR
 *
 * A Service named im-message gives IM_MESSAGE_SERVICE_HOST and IM_MESSAGE_SERVICE_PORT, the names
 * of message_service.host and .port; one named im-redis gives IM_REDIS_* names the config refuses.
 * They are recognised by their shape, not by their names: each set hangs on its
 * <NAME>_PORT=<proto>://<ip>:<port>, and a variable beside it counts only when its value is the
 * one the kubelet would have written. A value anyone else set (IM_MESSAGE_SERVICE_HOST=0.0.0.0 in
 * the manifests) stays a setting.
 */

const LINK = /^(tcp|udp|sctp):\/\/(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d{1,5})$/;
const COMPANION = /^PORT_(\d{1,5})_(TCP|UDP|SCTP)(?:_(PROTO|PORT|ADDR))?$/;

export interface ServiceLink {
  /** The Service, as far as its variables tell: `im-message` (Kubernetes writes `-` and `_` alike). */
  service: string;
  /** Every variable of its set, sorted. */
  variables: string[];
}

/** The service-link sets in an environment; only those with a variable in `relevant` (the names the config would read or refuse). */
export function serviceLinks(env: NodeJS.ProcessEnv, relevant: (name: string) => boolean): ServiceLink[] {
  const out: ServiceLink[] = [];
  for (const [name, value] of Object.entries(env)) {
    const m = name.endsWith('_PORT') && value !== undefined ? LINK.exec(value) : null;
    if (!m) continue;
    const prefix = name.slice(0, -'_PORT'.length);
    const ip = m[2]!.replace(/^\[|\]$/g, '');
    const hostPort = (port: string) => `${m[2]}:${port}`;
    const set = new Set([name]);
    const ports = new Set<string>();
    for (const [other, v] of Object.entries(env)) {
      if (!other.startsWith(`${prefix}_`) || v === undefined) continue;
      const c = COMPANION.exec(other.slice(prefix.length + 1));
      if (!c) continue;
      const [, port, proto, part] = c as unknown as [string, string, string, string | undefined];
      const expected = part === undefined ? `${proto.toLowerCase()}://${hostPort(port)}` : part === 'PROTO' ? proto.toLowerCase() : part === 'PORT' ? port : ip;
      if (v !== expected) continue;
      set.add(other);
      ports.add(port);
    }
    for (const [other, v] of Object.entries(env)) {
      if (!other.startsWith(`${prefix}_SERVICE_`) || v === undefined) continue;
      const rest = other.slice(prefix.length + 1);
      const ours = rest === 'SERVICE_HOST' ? v === ip : rest === 'SERVICE_PORT' ? v === m[3] : /^SERVICE_PORT_\w+$/.test(rest) && ports.has(v);
      if (ours) set.add(other);
    }
    const variables = [...set].sort();
    if (variables.some(relevant)) out.push({ service: prefix.toLowerCase().replaceAll('_', '-'), variables });
  }
  return out.sort((a, b) => a.service.localeCompare(b.service));
}

/** A Service as the kubelet sees it when it writes service links. */
export interface ServiceLinkSource {
  name: string;
  clusterIP: string;
  ports: { name?: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[];
}

/**
 * The variables the kubelet writes into a pod for each Service of its namespace while the pod has
 * service links on (Kubernetes' pkg/kubelet/envvars): what serviceLinks must recognise, for tests
 * and for checking what a namespace's Services would do to a pod.
 */
export function kubeletServiceLinks(services: readonly ServiceLinkSource[]): Record<string, string> {
  const env: Record<string, string> = {};
  const envName = (s: string) => s.replaceAll('-', '_').toUpperCase();
  for (const s of services) {
    if (s.clusterIP === '' || s.clusterIP === 'None' || s.ports.length === 0) continue;
    const prefix = envName(s.name);
    const hostPort = (port: number) => (s.clusterIP.includes(':') ? `[${s.clusterIP}]:${port}` : `${s.clusterIP}:${port}`);
    env[`${prefix}_SERVICE_HOST`] = s.clusterIP;
    env[`${prefix}_SERVICE_PORT`] = String(s.ports[0]!.port);
    for (const p of s.ports) if (p.name) env[`${prefix}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
    s.ports.forEach((p, i) => {
      const proto = p.protocol ?? 'TCP';
      const url = `${proto.toLowerCase()}://${hostPort(p.port)}`;
      if (i === 0) env[`${prefix}_PORT`] = url;
      const pp = `${prefix}_PORT_${p.port}_${proto}`;
      Object.assign(env, { [pp]: url, [`${pp}_PROTO`]: proto.toLowerCase(), [`${pp}_PORT`]: String(p.port), [`${pp}_ADDR`]: s.clusterIP });
    });
  }
  return env;
}
