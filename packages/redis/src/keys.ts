/** The hash tag of the admission keys. */
export const ADMISSION_TAG = 'adm';

/** Every Redis key the fleet writes outside BullMQ, in one place. */
export const keys = {
  /** Presence (CONTRACT.md section 4): value is the gateway id, with an expiry. */
  presence: (userId: string) => `im:presence:${userId}`,
  /*
   * Admission keys (seq, dedupe, rate, epoch) carry one hash tag, ADMISSION_TAG, so that one
   * admission script call touches one Redis Cluster slot.
   */
  /** Per-conversation seq counter ('s:{low}:{high}' or 'g:{group_id}'): a hash {n: last seq, e: epoch it was checked in}. */
  seq: (conversation: string, tag = ADMISSION_TAG) => `im:{${tag}}:seq:${conversation}`,
  /** The seq epoch: bumped whenever the Redis that holds the counters is not the one that last checked them. */
  seqEpoch: (tag = ADMISSION_TAG) => `im:{${tag}}:seq:epoch`,
  /** run_id of the Redis server that last checked the counters (a restart or failover changes it). */
  seqNode: (tag = ADMISSION_TAG) => `im:{${tag}}:seq:node`,
  /** client_msg_id dedupe record of a sender. */
  dedupe: (senderId: string, clientMsgId: string, tag = ADMISSION_TAG) => `im:{${tag}}:dedupe:${senderId}:${clientMsgId}`,
  /** Send counter of a sender for one second. */
  rate: (senderId: string, second: number, tag = ADMISSION_TAG) => `im:{${tag}}:rate:${senderId}:${second}`,
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
  /** The shard count (queue.shards) the deployment last ran with, under its queue prefix. */
  shardCount: (queuePrefix: string) => `${queuePrefix}:shards`,
  /** Message-id node leases. */
  idNodeNext: 'im:idgen:next',
  idNode: (node: number) => `im:idgen:node:${node}`,
} as const;
