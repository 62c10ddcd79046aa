import { createRedis, type Redis, type RedisTarget } from '@im/redis';
import type { ApiClient } from './api';
import { sharedAsyncApiValidator } from './asyncapi';
import { testRedisTarget, topology } from './env';
import { waitFor } from './wait';

export interface Received {
  channel: string;
  payload: any;
  raw: string;
}

/**
 * A simulated gateway: subscribes to user channels on Redis (SUBSCRIBE, or SSUBSCRIBE when the
 * fleet runs sharded Pub/Sub; on a cluster too), reports presence through the API, records every
 * payload, and can acknowledge delivery. Every payload is checked against docs/asyncapi.yaml as it
 * arrives: one the document does not describe fails the test that looks at what was received.
 */
export class GatewaySimulator {
  readonly received: Received[] = [];
  /** Payloads that do not match docs/asyncapi.yaml, with what is wrong. */
  readonly invalid: string[] = [];
  private readonly sub: Redis;
  private readonly sharded = topology().pubsub === 'sharded';

  constructor(
    private readonly api: ApiClient,
    readonly gatewayId = 'gw-test',
    /** The fleet's Redis, when it is not the test stack's (a test's private server). */
    target: RedisTarget = testRedisTarget(),
  ) {
    this.sub = createRedis(target, 'subscriber', `im-test-${gatewayId}`);
    // A real gateway rides out a Redis restart: ioredis reconnects and subscribes again.
    this.sub.on('error', () => {});
    const validator = sharedAsyncApiValidator();
    const record = (channel: string, raw: string) => {
      this.invalid.push(...validator.check(channel, raw));
      this.received.push({ channel, payload: JSON.parse(raw), raw });
    };
    this.sub.on(this.sharded ? 'smessage' : 'message', record);
  }

  /** SSUBSCRIBE takes channels of one slot per call: one call per channel (sent at once). */
  private async listen(channels: readonly string[]): Promise<void> {
    if (this.sharded) await Promise.all(channels.map((c) => this.sub.ssubscribe(c)));
    else for (let i = 0; i < channels.length; i += 1000) await this.sub.subscribe(...channels.slice(i, i + 1000));
  }

  /** Subscribe to user:{id} and report presence, like a gateway holding these users' sockets. */
  async connect(userIds: readonly string[], ttlS = 60): Promise<void> {
    await this.listen(userIds.map((id) => `user:${id}`));
    for (const id of userIds) {
      const r = await this.api.client.PUT('/v1/presence/{user_id}', { params: { path: { user_id: id } }, body: { gateway_id: this.gatewayId, ttl_s: ttlS } });
      if (r.response.status !== 204) throw new Error(`presence for ${id} answered ${r.response.status}`);
    }
  }

  /** The devices of each user connected here (connectDevice). */
  private readonly devices = new Map<string, Set<string>>();

  /** One device of a user connected here: subscribe to user:{id} (once per user) and report the device's presence. */
  async connectDevice(userId: string, deviceId: string, platform = 'unknown', ttlS = 60): Promise<void> {
    if (!this.devices.has(userId)) this.devices.set(userId, new Set());
    this.devices.get(userId)!.add(deviceId);
    await this.listen([`user:${userId}`]);
    const r = await this.api.put(`/v1/presence/${userId}`, { gateway_id: this.gatewayId, ttl_s: ttlS, device_id: deviceId, platform });
    if (r.status !== 204) throw new Error(`presence for ${userId}/${deviceId} answered ${r.status}: ${JSON.stringify(r.body)}`);
  }

  /** The device went away: its presence on this gateway ends; with the user's last device here, so does the subscription. */
  async disconnectDevice(userId: string, deviceId: string): Promise<void> {
    const r = await this.api.del(`/v1/presence/${userId}?gateway_id=${this.gatewayId}&device_id=${deviceId}`);
    if (r.status !== 204) throw new Error(`presence delete for ${userId}/${deviceId} answered ${r.status}`);
    const here = this.devices.get(userId);
    here?.delete(deviceId);
    if (here?.size === 0) {
      this.devices.delete(userId);
      if (this.sharded) await this.sub.sunsubscribe(`user:${userId}`);
      else await this.sub.unsubscribe(`user:${userId}`);
    }
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    await this.listen(channels);
  }

  /** Throws when a payload received so far does not match docs/asyncapi.yaml. */
  assertValid(): void {
    if (this.invalid.length > 0) throw new Error(`payloads that do not match docs/asyncapi.yaml:\n  - ${this.invalid.slice(0, 10).join('\n  - ')}`);
  }

  for(userId: string): any[] {
    this.assertValid();
    return this.received.filter((r) => r.channel === `user:${userId}`).map((r) => r.payload);
  }

  async waitForCount(userId: string, n: number, timeoutMs = 15_000): Promise<any[]> {
    return waitFor(`${n} messages on user:${userId}`, () => (this.for(userId).length >= n ? this.for(userId) : undefined), timeoutMs);
  }

  async ack(userId: string, messageIds: string[], status: 'delivered' | 'read' = 'delivered', deviceId?: string) {
    const r = await this.api.client.POST('/v1/acks', { body: { user_id: userId, message_ids: messageIds, status, ...(deviceId ? { device_id: deviceId } : {}) } });
    return { status: r.response.status, body: r.data ?? r.error };
  }

  async close(): Promise<void> {
    this.sub.disconnect();
  }
}
