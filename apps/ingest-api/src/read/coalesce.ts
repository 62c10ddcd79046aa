import { MicroBatcher } from '@im/worker-kit';

/**
 * A keyed lookup (one query for many keys, answered as a Map) shared by concurrent callers: keys
 * asked while queries are in flight gather into the next query, so under load many reads cost one
 * statement. The first caller does not wait; batches grow only when the database is busy.
 */
export function coalesce<K, V>(lookup: (keys: readonly K[]) => Promise<Map<string, V>>, keyOf: (k: K) => string, maxInFlight = 2): (keys: readonly K[]) => Promise<Map<string, V>> {
  const batcher = new MicroBatcher<K, V | undefined>(
    async (keys) => {
      const unique = new Map(keys.map((k) => [keyOf(k), k]));
      const found = await lookup([...unique.values()]);
      return keys.map((k) => found.get(keyOf(k)));
    },
    { maxItems: 500, maxWaitMs: 0, maxInFlight },
  );
  return async (keys) => {
    if (keys.length === 0) return new Map();
    const values = await batcher.addMany(keys);
    const out = new Map<string, V>();
    keys.forEach((k, i) => {
      const v = values[i];
      if (v !== undefined) out.set(keyOf(k), v);
    });
    return out;
  };
}
