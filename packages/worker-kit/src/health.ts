/** The ops routes of every process (contract section 5), written once for the servers that serve them and the manifests' checks. */
export const OPS_PATHS = {
  /** 200 while the process runs: liveness. */
  health: '/health',
  /** 200 while this process can take traffic: readiness. */
  ready: '/ready',
  /** The state of Redis and MySQL as this process sees them; 503 naming those that do not answer. */
  dependencies: '/health/dependencies',
  metrics: '/metrics',
} as const;

export type DependencyChecks = Record<string, () => Promise<unknown>>;

/** What a process needs besides itself: Redis and MySQL, each answering a trivial command. */
export function dependencyChecks(redis: { ping(): Promise<unknown> }, pool: { query(sql: string): Promise<unknown> }): DependencyChecks {
  return { redis: () => redis.ping(), mysql: () => pool.query('SELECT 1') };
}

export type Readiness = { ready: true; body: { status: 'ready' } } | { ready: false; body: { status: 'unavailable'; reasons: string[] } };

export interface DependencyReport {
  ok: boolean;
  body: { status: 'ok'; dependencies: Record<string, 'up' | 'down'> } | { status: 'unavailable'; failed: string[]; dependencies: Record<string, 'up' | 'down'> };
}

/**
 * Readiness and dependency state of one process, behind /ready and /health/dependencies.
 *
 * Ready means this process can take traffic: it has started (listening, or consuming), every
 * condition of its own holds (ingest-api: its message-id node lease), and it is not shutting
 * down. The backing services are not part of it: an outage of Redis or MySQL is shared by every
 * replica, and a readiness that followed it would take them all out of their Service at once, so
 * that gateways get refused connections instead of the contract's 503s (which say when to retry)
 * and 202s (sends of known users are queued while MySQL is away). Their state is reported apart:
 * /health/dependencies and the gauge im_dependency_up.
 */
export class ProcessHealth {
  private phase: 'starting' | 'serving' | 'draining' = 'starting';
  private readonly conditions = new Map<string, () => boolean>();
  private checks: DependencyChecks = {};

  /** A condition of this process's own that readiness needs (a name for the 503, a test). */
  require(name: string, holds: () => boolean): void {
    this.conditions.set(name, holds);
  }

  /** The backing services to report on. */
  dependOn(checks: DependencyChecks): void {
    this.checks = checks;
  }

  /** Started: listening or consuming. */
  serving(): void {
    if (this.phase === 'starting') this.phase = 'serving';
  }

  /** Shutting down: not ready from now on. */
  draining(): void {
    this.phase = 'draining';
  }

  get isDraining(): boolean {
    return this.phase === 'draining';
  }

  readiness(): Readiness {
    const reasons: string[] = this.phase === 'serving' ? [] : [this.phase];
    for (const [name, holds] of this.conditions) if (!holds()) reasons.push(name);
    return reasons.length === 0 ? { ready: true, body: { status: 'ready' } } : { ready: false, body: { status: 'unavailable', reasons } };
  }

  /** Runs every dependency check, each within `timeoutMs`. */
  async dependencies(timeoutMs = 2000): Promise<DependencyReport> {
    const names = Object.keys(this.checks);
    const up = await Promise.all(names.map((name) => withTimeout(this.checks[name]!(), timeoutMs).then(() => true, () => false)));
    const dependencies = Object.fromEntries(names.map((n, i) => [n, up[i] ? 'up' : 'down'] as const));
    const failed = names.filter((_, i) => !up[i]);
    return failed.length === 0 ? { ok: true, body: { status: 'ok', dependencies } } : { ok: false, body: { status: 'unavailable', failed, dependencies } };
  }
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]).finally(() => clearTimeout(timer));
}
