import type { Platform } from '@im/contracts';
import type { DevicesRepository, OfflineRepository, SyncItem } from '@im/db';
import { notFound, permissionDenied } from '@im/errors';
import type { Metrics } from '@im/metrics';
import type { Presence } from '@im/redis';

export interface DevicesDeps {
  devices: DevicesRepository;
  offline: OfflineRepository;
  presence: Presence;
  metrics: Pick<Metrics, 'syncPages' | 'syncLag'>;
  assertUser(userId: string): Promise<void>;
  limits: { maxPerUser: number; newDeviceWindowDays: number; newDeviceMaxMessages: number };
}

/** How often one process refreshes a device's last_seen_at in MySQL (heartbeats in between only touch Redis). */
export const SEEN_REFRESH_MS = 3_600_000;

/**
 * A user's devices: registered the first time a gateway names one (presence or sync), seen again
 * on later heartbeats, listed, removed, and each device's own sync.
 */
export function devicesService(d: DevicesDeps) {
  // Registrations this process made lately, so a heartbeat every few seconds costs MySQL one
  // statement an hour per device, not one per heartbeat: `${user}/${device}` -> [when, platform].
  const seen = new Map<string, [number, Platform | undefined]>();

  async function register(userId: string, deviceId: string, platform?: Platform): Promise<void> {
    const key = `${userId}/${deviceId}`;
    const now = Date.now();
    const last = seen.get(key);
    if (last && now - last[0] < SEEN_REFRESH_MS && (platform === undefined || platform === last[1])) return;
    const r = await d.devices.register(userId, deviceId, platform, now, d.limits.maxPerUser, {
      sinceMs: now - d.limits.newDeviceWindowDays * 86_400_000,
      maxMessages: d.limits.newDeviceMaxMessages,
    });
    if (r.outcome === 'limit') {
      throw permissionDenied(
        'DEVICE_LIMIT',
        `user ${userId} already has ${r.devices} devices, the most devices.max_per_user allows; remove one (DELETE /v1/users/${userId}/devices/{device_id}) before adding ${deviceId}`,
      );
    }
    if (seen.size >= 100_000) seen.clear();
    seen.set(key, [now, r.device.platform]);
  }

  return {
    registerDevice: register,

    async listDevices(userId: string) {
      await d.assertUser(userId);
      const [devices, online] = await Promise.all([d.devices.list(userId), d.presence.lookup([userId])]);
      const on = online.get(userId) ?? new Map<string, string>();
      const listed: ListedDevice[] = devices.map((dev) => ({ ...dev, online: on.has(dev.device_id), gateway_id: on.get(dev.device_id) ?? null }));
      // Presence written by a release without devices names the `default` device, which may not be registered.
      for (const [device_id, gateway_id] of on) {
        if (!listed.some((l) => l.device_id === device_id)) listed.push({ device_id, platform: 'unknown', created_at: null, last_seen_at: null, online: true, gateway_id });
      }
      return { devices: listed };
    },

    /** Forgets the device and its sync, and ends its presence. */
    async removeDevice(userId: string, deviceId: string): Promise<void> {
      await d.assertUser(userId);
      const existed = await d.devices.remove(userId, deviceId);
      const cleared = await d.presence.clear(userId, deviceId);
      seen.delete(`${userId}/${deviceId}`);
      if (!existed && cleared.length === 0) throw notFound('UNKNOWN_DEVICE', `user ${userId} has no device ${deviceId}`);
    },

    /**
     * One page of the device's sync (a device syncing for the first time is registered, and starts
     * from the configured window). `cursor` confirms the page that ended with it.
     */
    async sync(userId: string, deviceId: string, cursor: string | null, limit: number) {
      await d.assertUser(userId);
      await register(userId, deviceId);
      const now = Date.now();
      const page = await d.offline.sync(userId, deviceId, cursor, limit, now);
      d.metrics.syncPages.inc();
      const oldest = page.items[0];
      if (oldest) d.metrics.syncLag.observe(Math.max(0, now - itemTime(oldest)) / 1000);
      return { items: page.items, cursor: page.items.at(-1)?.id ?? null, has_more: page.hasMore };
    },
  };
}

const itemTime = (item: SyncItem) => item.created_at;

/** A device as GET /v1/users/{id}/devices lists it (times are null for a device seen only in presence). */
interface ListedDevice {
  device_id: string;
  platform: Platform;
  created_at: number | null;
  last_seen_at: number | null;
  online: boolean;
  gateway_id: string | null;
}
