import { channels, DEFAULT_DEVICE, messageEvent, type AcceptedMessage, type PushItem } from '@im/contracts';
import type { OfflineRow } from '@im/db';
import type { Metrics } from '@im/metrics';
import type { Presence, Unacked } from '@im/redis';
import type { BatchHandler } from '@im/worker-kit';

export type Route = 'online' | 'offline' | 'fallback';

export interface DeliverDeps {
  presence: Presence;
  /** PUBLISH many (channel, payload) pairs at once; resolves to each one's receiver count (-1: unknown, see @im/redis publisher). */
  publish(messages: readonly (readonly [channel: string, payload: string])[]): Promise<number[]>;
  /** The ids among messageIds that were recalled meanwhile (one MGET of tombstones). */
  recalled(messageIds: readonly string[]): Promise<Set<string>>;
  /**
   * Publishes that wait for their delivered ack (redelivery.ts stores the late ones offline).
   * Tracked before the PUBLISH, so an ack that overtakes the bookkeeping still clears it; unheard
   * ones are done at once (they go offline here).
   */
  unacked: {
    track(items: readonly Unacked[]): Promise<void>;
    done(items: readonly Unacked[]): Promise<void>;
  };
  /**
   * Hands deliveries that ended offline to the push queue (im.push; push-handoff.ts). Called once
   * they are stored; a failure is logged and counted, never fails the delivery.
   */
  push(items: readonly PushItem[]): Promise<void>;
  /** Stores offline rows (shared multi-row INSERT across concurrent jobs). */
  storeOffline(rows: readonly OfflineRow[]): Promise<void>;
  /** True while the delivery queues hold more than queue_size waiting jobs: route straight to offline. */
  atBacklogBound(): boolean;
  /** Attempts that still try to publish; later attempts store everything offline (the seed's degrade path). */
  publishAttempts: number;
  metrics: Metrics;
  now(): number;
}

interface Delivery {
  message: AcceptedMessage;
  receiver: string;
  /** Why it goes offline without a publish, if it does (the seed's degrade path). */
  degrade?: string;
}

/**
 * Routes each (message, receiver) of the delivery jobs of a round, in queue order, skipping
 * messages recalled meanwhile: online receivers get a PUBLISH on user:{id} (one pipeline for the
 * round); a PUBLISH that reached no subscriber, a receiver with no presence, a backlog over
 * queue_size, and a job whose publishes kept failing all end as an offline row (one multi-row
 * INSERT). Redis or MySQL errors throw, so BullMQ retries with backoff; a retry may publish twice
 * (gateways drop duplicates by message_id) but never stores a second offline row.
 */
export const handleDeliver: BatchHandler<'im.deliver', DeliverDeps> = async (jobs, { deps, log }) => {
  const recalled = await deps.recalled([...new Set(jobs.flatMap((j) => j.payload.items.map((i) => i.message.message_id)))]);
  const backlogged = deps.atBacklogBound();
  const deliveries: Delivery[] = [];
  for (const { payload, attempt } of jobs) {
    const degrade = attempt > deps.publishAttempts ? 'publish kept failing' : backlogged ? 'delivery backlog over queue_size' : undefined;
    for (const item of payload.items) {
      if (recalled.has(item.message.message_id)) continue;
      for (const receiver of item.receivers) deliveries.push({ message: item.message, receiver, ...(degrade ? { degrade } : {}) });
    }
  }
  if (deliveries.length === 0) return;

  const offline: { d: Delivery; route: Route }[] = [];
  const candidates: Delivery[] = [];
  for (const d of deliveries) {
    if (d.degrade) offline.push({ d, route: 'fallback' });
    else candidates.push(d);
  }
  if (offline.length > 0) log.warn({ deliveries: offline.length, reason: offline[0]!.d.degrade }, 'storing deliveries offline without publishing');

  if (candidates.length > 0) {
    const online = await deps.presence.lookup([...new Set(candidates.map((d) => d.receiver))]);
    const toPublish: Delivery[] = [];
    for (const d of candidates) {
      if (online.has(d.receiver)) toPublish.push(d);
      else offline.push({ d, route: 'offline' });
    }
    if (toPublish.length > 0) {
      await deps.unacked.track(toPublish.map((d) => ({ user_id: d.receiver, message_id: d.message.message_id })));
      const payloads = new Map<AcceptedMessage, string>();
      const heard = await deps.publish(
        toPublish.map((d) => {
          let payload = payloads.get(d.message);
          if (payload === undefined) {
            payload = messageEvent(d.message);
            payloads.set(d.message, payload);
          }
          return [channels.user(d.receiver), payload] as const;
        }),
      );
      const now = deps.now();
      const unheard: { user_id: string; message_id: string }[] = [];
      toPublish.forEach((d, i) => {
        // 0: nobody heard it (stale presence). Unknown (-1, classic Pub/Sub on a cluster): counted
        // as heard; if nobody acknowledges it, redelivery stores it offline after ack_timeout_s.
        if (heard[i] !== 0) {
          deps.metrics.deliveries.inc({ route: 'online' });
          deps.metrics.deliveryLatency.observe({ route: 'online' }, (now - d.message.created_at) / 1000);
        } else {
          unheard.push({ user_id: d.receiver, message_id: d.message.message_id });
          offline.push({ d, route: 'fallback' });
        }
      });
      await deps.unacked.done(unheard);
    }
  }

  if (offline.length > 0) {
    await deps.storeOffline(offline.map(({ d }) => ({ user_id: d.receiver, message_id: d.message.message_id })));
    const now = deps.now();
    for (const { d, route } of offline) {
      deps.metrics.deliveries.inc({ route });
      deps.metrics.deliveryLatency.observe({ route }, (now - d.message.created_at) / 1000);
    }
    // Stored: the push is a hint on top, so its queue never holds the delivery back.
    try {
      await deps.push(offline.map(({ d }) => ({ user_id: d.receiver, device_id: DEFAULT_DEVICE, message: d.message })));
    } catch (err) {
      deps.metrics.errors.inc({ component: 'push_enqueue', kind: 'UNAVAILABLE' });
      log.warn({ err, deliveries: offline.length }, 'push jobs could not be queued; the deliveries are stored offline and pulled later');
    }
  }
};
