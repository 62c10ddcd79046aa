import { channels, notificationEvent } from '@im/contracts';
import type { Presence, Publisher } from '@im/redis';

/** What gateways report (who is connected where) and the system-wide notification channel. */
export function presenceService(d: { presence: Presence; publisher: Publisher }) {
  return {
    async setPresence(userId: string, gatewayId: string, ttlS: number): Promise<void> {
      await d.presence.set(userId, gatewayId, ttlS);
    },

    /** A disconnect; with gatewayId, only that gateway's presence goes (a newer connection elsewhere stays). */
    async clearPresence(userId: string, gatewayId?: string): Promise<void> {
      await d.presence.clear(userId, gatewayId);
    },

    async notify(content: string): Promise<void> {
      await d.publisher.publish(channels.notification, notificationEvent(content, Date.now()));
    },
  };
}
