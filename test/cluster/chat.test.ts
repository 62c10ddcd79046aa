import { onCluster } from '../support/cluster';
import { shareFleets } from '../support/suite-fleet';

/**
 * The chat suites on the local Redis Cluster with sharded Pub/Sub (SPUBLISH/SSUBSCRIBE): single
 * chat, recall, group chat with its 10,000-member group, devices and their sync, and crash
 * recovery, one after another on one fleet (chat-classic.test.ts runs them with classic Pub/Sub).
 */
await onCluster(
  async () => {
    shareFleets();
    await import('../e2e/single-chat.test');
    await import('../e2e/recall.test');
    await import('../e2e/group-chat.test');
    await import('../e2e/devices.test');
    await import('../e2e/crash-recovery.test');
  },
  { pubsub: 'sharded' },
);
