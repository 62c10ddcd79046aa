import { Redis } from 'ioredis';
import type { ApiClient } from './api';
import { waitFor } from './wait';

export interface Received {
  channel: string;
  payload: any;
  raw: string;
}

/**
 * A simulated gateway: subscribes to user channels on Redis, reports presence through the API,
 * records every payload, and can acknowledge delivery.
 */
export class GatewaySimulator {
  readonly received: Received[] = [];
  private readonly sub: Redis;

  constructor(
    redisUrl: string,
    private readonly api: ApiClient,
    readonly gatewayId = 'gw-test',
  ) {
    this.sub = new Redis(redisUrl, { maxRetriesPerRequest: null });
    // A real gateway rides out a Redis restart: ioredis reconnects and subscribes again.
    this.sub.on('error', () => {});
    this.sub.on('message', (channel: string, raw: string) => this.received.push({ channel, payload: JSON.parse(raw), raw }));
  }

  /** Subscribe to user:{id} and report presence, like a gateway holding these users' sockets. */
  async connect(userIds: readonly string[], ttlS = 60): Promise<void> {
    await this.sub.subscribe(...userIds.map((id) => `user:${id}`));
    for (const id of userIds) {
      const r = await this.api.put(`/v1/presence/${id}`, { gateway_id: this.gatewayId, ttl_s: ttlS });
      if (r.status !== 204) throw new Error(`presence for ${id} answered ${r.status}`);
    }
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    await this.sub.subscribe(...channels);
  }

  for(userId: string): any[] {
    return this.received.filter((r) => r.channel === `user:${userId}`).map((r) => r.payload);
  }

  async waitForCount(userId: string, n: number, timeoutMs = 15_000): Promise<any[]> {
    return waitFor(`${n} messages on user:${userId}`, () => (this.for(userId).length >= n ? this.for(userId) : undefined), timeoutMs);
  }

  async ack(userId: string, messageIds: string[], status: 'delivered' | 'read' = 'delivered') {
    return this.api.post('/v1/acks', { user_id: userId, message_ids: messageIds, status });
  }

  async close(): Promise<void> {
    this.sub.disconnect();
  }
}
