import { channels, DEFAULT_DEVICE, messageEvent, type AcceptedMessage, type PushItem } from '@im/contracts';
import type { OfflineRow } from '@im/db';
import type { Metrics } from '@im/metrics';
import type { Presence, Unacked } from '@im/redis';
import { during, messageSpans, SpanKind } from '@im/telemetry';
import type { BatchHandler } from '@im/worker-kit';

export type Route = 'online' | 'offline' | 'fallback';

export interface DeliverDeps {
  presence: Presence;
  /** The registered devices of each user (users with none are absent: they have the `default` device). */
  devices(userIds: readonly string[]): Promise<Map<string, string[]>>;
  /** PUBLISH many (channel, payload) pairs at once; resolves to each one's receiver count (-1: unknown, see @im/redis publisher). */
  publish(messages: readonly (readonly [channel: string, payload: string])[]): Promise<number[]>;
  /** The ids among messageIds that were recalled meanwhile (one MGET of tombstones). */
  recalled(messageIds: readonly string[]): Promise<Set<string>>;
  /**
   * Publishes that wait for their delivered ack, one per online device (redelivery.ts stores the
   * late ones offline for that device). Tracked before the PUBLISH, so an ack that overtakes the
   * bookkeeping still clears it; unheard ones are done at once (they go offline here).
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

/** One message to one user: to each of the user's devices but the one it was sent from. */
interface Delivery {
  message: AcceptedMessage;
  receiver: string;
  devices: string[];
  /** Why it goes offline without a publish, if it does (the seed's degrade path). */
  degrade?: string;
}

/** The device a message was sent from: the send's device_id, else the single-device routes' device. */
const originOf = (m: AcceptedMessage) => m.sender_device_id ?? DEFAULT_DEVICE;

/**
 * Routes each (message, user) of the delivery jobs of a round, in queue order, skipping messages
 * recalled meanwhile, to each device of the user (its registered devices, or `default` for a user
 * with none; for the sender, every device but the one the message came from). A user with an
 * online device gets one PUBLISH on user:{id} (one pipeline for the round), which each of its
 * gateways hears, and each online device's publish waits for that device's delivered ack
 * (redelivery); every device not online gets an offline row (its sync), so a message delivered
 * online to one device is still in the others' sync; those rows are written while the round
 * publishes. A PUBLISH that reached no subscriber, a backlog over queue_size, and a job whose
 * publishes kept failing also end as offline rows (multi-row INSERTs; a publish nobody heard, after
 * it). Redis or MySQL errors throw, so BullMQ retries with backoff; a retry may publish twice
 * (gateways drop duplicates by message_id) but never stores a second offline row.
 */
export const handleDeliver: BatchHandler<'im.deliver', DeliverDeps> = async (jobs, { deps, log, trace }) => {
  const recalled = await deps.recalled([...new Set(jobs.flatMap((j) => j.payload.items.map((i) => i.message.message_id)))]);
  const users = [...new Set(jobs.flatMap((j) => j.payload.items.flatMap((i) => i.receivers)))];
  const backlogged = deps.atBacklogBound();
  // The registry (MySQL) and presence (Redis) are read together; over the backlog bound every
  // delivery goes offline, and presence is not read at all.
  const [registered, online] = await Promise.all([deps.devices(users), backlogged ? new Map() : deps.presence.lookup(users, deps.now())]);
  const deliveries: Delivery[] = [];
  for (const { payload, attempt } of jobs) {
    const degrade = attempt > deps.publishAttempts ? 'publish kept failing' : backlogged ? 'delivery backlog over queue_size' : undefined;
    for (const item of payload.items) {
      if (recalled.has(item.message.message_id)) continue;
      for (const receiver of new Set(item.receivers)) {
        let devices = registered.get(receiver) ?? [DEFAULT_DEVICE];
        if (receiver === item.message.sender_id) devices = devices.filter((d) => d !== originOf(item.message));
        if (devices.length === 0 && receiver === item.message.sender_id) continue;
        deliveries.push({ message: item.message, receiver, devices, ...(degrade ? { degrade } : {}) });
      }
    }
  }
  if (deliveries.length === 0) return;

  const offline: { d: Delivery; device: string; route: Route }[] = [];
  const candidates: Delivery[] = [];
  for (const d of deliveries) {
    if (d.degrade) for (const device of d.devices) offline.push({ d, device, route: 'fallback' });
    else candidates.push(d);
  }
  if (offline.length > 0) log.warn({ deliveries: offline.length, reason: offline[0]!.d.degrade }, 'storing deliveries offline without publishing');

  // Offline rows do not wait for the publishes: the devices not online are stored while the
  // round publishes to the others (the rows of publishes nobody heard follow).
  const storeRows = (rows: readonly { d: Delivery; device: string }[]) =>
    during(
      messageSpans('offline rows', SpanKind.CLIENT, rows.map(({ d }) => d.message.message_id), trace?.of, { 'db.system.name': 'mysql', 'db.operation.name': 'INSERT', 'db.collection.name': 'offline_message' }),
      deps.storeOffline(rows.map(({ d, device }) => ({ user_id: d.receiver, device_id: device, message_id: d.message.message_id, origin_device: d.message.sender_device_id ?? null }))),
    );
  let storing: Promise<void> | undefined;
  const fallback: typeof offline = [];
  if (candidates.length > 0) {
    const toPublish: { d: Delivery; devices: string[] }[] = [];
    for (const d of candidates) {
      const on = online.get(d.receiver);
      // A device online but not registered: presence of an earlier release names the `default` device.
      const targets = on ? [...new Set([...d.devices, ...[...on.keys()].filter((dev) => d.receiver !== d.message.sender_id || dev !== originOf(d.message))])] : d.devices;
      const onlineDevices: string[] = [];
      for (const device of targets) {
        if (on?.has(device)) onlineDevices.push(device);
        else offline.push({ d, device, route: 'offline' });
      }
      if (onlineDevices.length > 0) toPublish.push({ d, devices: onlineDevices });
    }
    if (offline.length > 0) {
      storing = storeRows(offline);
      // Awaited below; a publish that fails first must not leave its rejection unheard.
      storing.catch(() => {});
    }
    if (toPublish.length > 0) {
      const tracked = (p: (typeof toPublish)[number]) => p.devices.map((device) => ({ user_id: p.d.receiver, device_id: device, message_id: p.d.message.message_id }));
      await deps.unacked.track(toPublish.flatMap(tracked));
      const payloads = new Map<AcceptedMessage, string>();
      // With tracing on, one span per message for its publishes, in the message's trace.
      const published = messageSpans('PUBLISH', SpanKind.PRODUCER, toPublish.map((p) => p.d.message.message_id), trace?.of, { 'db.system.name': 'redis', 'db.operation.name': 'PUBLISH' });
      const heard = await during(published, deps.publish(
        toPublish.map(({ d }) => {
          let payload = payloads.get(d.message);
          if (payload === undefined) {
            payload = messageEvent(d.message);
            payloads.set(d.message, payload);
          }
          return [channels.user(d.receiver), payload] as const;
        }),
      ));
      const now = deps.now();
      const unheard: Unacked[] = [];
      toPublish.forEach((p, i) => {
        // 0: nobody heard it (stale presence). Unknown (-1, classic Pub/Sub on a cluster): counted
        // as heard; if nobody acknowledges it, redelivery stores it offline after ack_timeout_s.
        if (heard[i] !== 0) {
          deps.metrics.deliveries.inc({ route: 'online' }, p.devices.length);
          deps.metrics.deliveryLatency.observe({ route: 'online' }, (now - p.d.message.created_at) / 1000);
        } else {
          unheard.push(...tracked(p));
          for (const device of p.devices) fallback.push({ d: p.d, device, route: 'fallback' });
        }
      });
      await deps.unacked.done(unheard);
    }
  }

  if (offline.length > 0 && !storing) storing = storeRows(offline);
  await storing;
  if (fallback.length > 0) {
    await storeRows(fallback);
    offline.push(...fallback);
  }
  if (offline.length > 0) {
    const now = deps.now();
    for (const { d, route } of offline) {
      deps.metrics.deliveries.inc({ route });
      deps.metrics.deliveryLatency.observe({ route }, (now - d.message.created_at) / 1000);
    }
    // Stored: the push is a hint on top, so its queue never holds the delivery back.
    try {
      // The sender's own other devices get no push for what the sender just typed.
      await deps.push(offline.filter(({ d }) => d.receiver !== d.message.sender_id).map(({ d, device }) => ({ user_id: d.receiver, device_id: device, message: d.message })));
    } catch (err) {
      deps.metrics.errors.inc({ component: 'push_enqueue', kind: 'UNAVAILABLE' });
      log.warn({ err, deliveries: offline.length }, 'push jobs could not be queued; the deliveries are stored offline and pulled later');
    }
  }
};
