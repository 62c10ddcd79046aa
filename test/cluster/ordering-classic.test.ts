import { onCluster } from '../support/cluster';

// With classic Pub/Sub on a cluster, publishes of one channel that ran on different nodes reached
// a subscriber out of order; every publish of a channel now goes through one node (@im/redis pubsub).
await onCluster(() => import('../e2e/ordering.test'), { pubsub: 'classic' });
