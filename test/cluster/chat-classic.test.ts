import { onCluster } from '../support/cluster';
import { shareFleets } from '../support/suite-fleet';

/**
 * The chat suites of chat.test.ts with classic Pub/Sub (PUBLISH/SUBSCRIBE), the contract's
 * default: a publish reaches subscribers on every node, in order per channel, and its count cannot
 * say that nobody heard, so an unheard message is stored offline after ack_timeout_s.
 */
await onCluster(
  async () => {
    shareFleets();
    await import('../e2e/single-chat.test');
    await import('../e2e/recall.test');
    await import('../e2e/group-chat.test');
    await import('../e2e/crash-recovery.test');
  },
  { pubsub: 'classic' },
);
