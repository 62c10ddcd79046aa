import type { OfflineRow } from '@im/db';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import type { Unacked } from '@im/redis';

export interface RedeliveryDeps {
  /** Claims publishes whose ack deadline passed (leased, so processes share the work) and clears them once stored. */
  unacked: {
    claimDue(now: number, limit: number): Promise<Unacked[]>;
    done(items: readonly Unacked[]): Promise<void>;
  };
  storeOffline(rows: readonly OfflineRow[]): Promise<void>;
  metrics: Pick<Metrics, 'deliveries'>;
  log: Logger;
  now(): number;
}

/**
 * The second way a message reaches a user: a publish nobody acknowledged as delivered within
 * ack_timeout_s is stored offline, so the user pulls it later. One pass claims what is due, up to
 * `batch` at a time, until nothing is left; worker-delivery runs a pass every second. Returns how
 * many were stored.
 */
export async function redeliverDue(d: RedeliveryDeps, batch = 1000): Promise<number> {
  let stored = 0;
  for (;;) {
    const due = await d.unacked.claimDue(d.now(), batch);
    if (due.length === 0) return stored;
    await d.storeOffline(due);
    await d.unacked.done(due);
    stored += due.length;
    d.metrics.deliveries.inc({ route: 'redelivered' }, due.length);
    d.log.info({ count: due.length }, 'stored unacknowledged publishes offline');
    if (due.length < batch) return stored;
  }
}
