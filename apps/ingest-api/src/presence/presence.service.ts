import { channels, DEFAULT_DEVICE, notificationEvent, type Platform } from '@im/contracts';
import type { Presence, Publisher } from '@im/redis';

/** What gateways report (which device is connected where) and the system-wide notification channel. */
export function presenceService(d: { presence: Presence; publisher: Publisher; registerDevice(userId: string, deviceId: string, platform?: Platform): Promise<void> }) {
  return {
    /**
     * A heartbeat of one device (the `default` device when the gateway names none): registers the
     * device the first time (so delivery stores what it misses), then marks it online for ttlS.
     */
    async setPresence(userId: string, gatewayId: string, ttlS: number, deviceId: string = DEFAULT_DEVICE, platform?: Platform): Promise<void> {
      await d.registerDevice(userId, deviceId, platform);
      await d.presence.set(userId, deviceId, gatewayId, ttlS);
    },

    /**
     * A disconnect: of one device, or of every device of the user; with gatewayId, only presence
     * that still names that gateway goes (a newer connection elsewhere stays).
     */
    async clearPresence(userId: string, gatewayId?: string, deviceId?: string): Promise<void> {
      await d.presence.clear(userId, deviceId, gatewayId);
    },

    async notify(content: string): Promise<void> {
      await d.publisher.publish(channels.notification, notificationEvent(content, Date.now()));
    },
  };
}
