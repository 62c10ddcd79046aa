/**
 * The Redis keys the fleet writes outside BullMQ that belong to no shard. A shard's keys (its
 * queues, seq counters, dedupe and rate records, hot-history caches, consumer leases) are named
 * by the topology (topology.ts).
 */
export const keys = {
  /** Presence (CONTRACT.md section 4): value is the gateway id, with an expiry. */
  presence: (userId: string) => `im:presence:${userId}`,
  /** Every online device ('{user_id}|{device_id}', score = its presence's expiry): counted for im_devices_online. */
  onlineDevices: 'im:presence:online-devices',
  /** Version of a group's member list; bumped on every change. */
  groupVersion: (groupId: string) => `im:group:${groupId}:v`,
  /** Cached member set of a group at one version. */
  groupMembers: (groupId: string, version: string) => `im:group:${groupId}:members:${version}`,
  /** A recalled message: delivery still in flight must not publish or store it. */
  recalled: (messageId: string) => `im:recalled:${messageId}`,
  /**
   * Online publishes awaiting their delivered ack: member '{user_id}|{message_id}', score = deadline
   * (ms). One set per deployment, under the queue prefix (its hash tag keeps it beside the queues).
   */
  unacked: (queuePrefix: string) => `${queuePrefix}:unacked`,
  /**
   * A device's push collapse window (push-windows.ts), all under one hash tag per device so each
   * step is one script on one Cluster slot; the deployment's queue prefix (without its braces) keeps
   * deployments that share a Redis apart.
   */
  pushWindow: (queuePrefix: string, userId: string, deviceId: string) => {
    const base = `im:{push:${queuePrefix.replace(/[{}]/g, '')}:${userId}:${deviceId}}`;
    return {
      /** The window now open: its id, while messages gather. */
      open: `${base}:window`,
      /** Message ids of the open window (a set: a retried delivery counts once). */
      pending: `${base}:pending`,
      /** The newest message of the open window: hash {id, body}. */
      latest: `${base}:latest`,
      /** A closed window being sent (kept until the provider took it, so a retry sends the same). */
      sending: (window: string) => `${base}:sending:${window}`,
      sendingLatest: (window: string) => `${base}:sending:${window}:latest`,
    };
  },
  /** Message-id node leases. */
  idNodeNext: 'im:idgen:next',
  idNode: (node: number) => `im:idgen:node:${node}`,
} as const;
