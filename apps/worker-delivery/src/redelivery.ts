import type { PushItem } from '@im/contracts';
import type { HistoryRow, OfflineRow } from '@im/db';
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
  /**
   * push.enabled: hands the stored publishes to the push queue (the device did not confirm it got
   * them, so it may be asleep). Not called when off. Its failure holds nothing back.
   */
  push?(stored: readonly Unacked[]): Promise<void>;
  metrics: Pick<Metrics, 'deliveries' | 'errors'>;
  log: Logger;
  now(): number;
}

/**
 * The second way a message reaches a user: a publish nobody acknowledged as delivered within
 * ack_timeout_s is stored offline, so the user pulls it later. One pass claims what is due, up to
 * `batch` at a time, until nothing is left; worker-delivery runs a pass every second. With push on,
 * what was stored is handed to the push queue too, as an offline delivery is. Returns how many
 * were stored.
 */
export async function redeliverDue(d: RedeliveryDeps, batch = 1000): Promise<number> {
  let stored = 0;
  for (;;) {
    const due = await d.unacked.claimDue(d.now(), batch);
    if (due.length === 0) return stored;
    await d.storeOffline(due);
    await d.unacked.done(due);
    if (d.push) {
      await d.push(due).catch((err) => {
        d.metrics.errors.inc({ component: 'push_enqueue', kind: 'UNAVAILABLE' });
        d.log.warn({ err, deliveries: due.length }, 'push jobs of redelivered publishes could not be queued; they are stored offline and pulled later');
      });
    }
    stored += due.length;
    d.metrics.deliveries.inc({ route: 'redelivered' }, due.length);
    d.log.info({ count: due.length }, 'stored unacknowledged publishes offline');
    if (due.length < batch) return stored;
  }
}

/**
 * The push items of redelivered publishes: each message looked up in history (one query per
 * pass; a message recalled meanwhile is not there, and gets no push), for its receiver's device,
 * never for the sender's own devices (as for offline deliveries).
 */
export function redeliveredPushes(o: { messages(ids: readonly string[]): Promise<HistoryRow[]>; push(items: readonly PushItem[]): Promise<void> }) {
  return async (stored: readonly Unacked[]): Promise<void> => {
    const rows = new Map((await o.messages([...new Set(stored.map((s) => s.message_id))])).map((r) => [r.message_id, r]));
    const items: PushItem[] = [];
    for (const s of stored) {
      const row = rows.get(s.message_id);
      if (!row || row.sender_id === s.user_id) continue;
      const { conversation: _conversation, ...message } = row;
      items.push({ user_id: s.user_id, device_id: s.device_id, message: { ...message, client_msg_id: null } });
    }
    await o.push(items);
  };
}
