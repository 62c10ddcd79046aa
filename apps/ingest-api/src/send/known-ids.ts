import { MicroBatcher } from '@im/worker-kit';

/**
 * Which ids exist (users, groups), cached in process: they are never deleted, so a positive answer
 * holds; unknown ids are asked again each time. Concurrent misses share one `IN (...)` query.
 */
export class KnownIds {
  private readonly known = new Map<string, number>();
  private readonly lookups: MicroBatcher<string, boolean>;

  constructor(
    existing: (ids: readonly string[]) => Promise<Set<string>>,
    private readonly ttlMs = 10 * 60_000,
    private readonly capacity = 1_000_000,
  ) {
    this.lookups = new MicroBatcher(
      async (ids) => {
        const found = await existing([...new Set(ids)]);
        return ids.map((id) => found.has(id));
      },
      { maxItems: 1000, maxWaitMs: 1, maxInFlight: 4 },
    );
  }

  /** Returns the ids among `ids` that do not exist. */
  async unknown(ids: readonly string[]): Promise<string[]> {
    const now = Date.now();
    const misses = ids.filter((id) => (this.known.get(id) ?? 0) < now);
    if (misses.length === 0) return [];
    const found = await this.lookups.addMany(misses);
    const missing: string[] = [];
    misses.forEach((id, i) => {
      if (found[i]) this.remember(id, now);
      else missing.push(id);
    });
    return missing;
  }

  remember(id: string, now = Date.now()): void {
    if (this.known.size >= this.capacity) this.known.clear();
    this.known.set(id, now + this.ttlMs);
  }
}
