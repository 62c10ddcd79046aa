import { onCluster } from '../support/cluster';

await onCluster(() => import('../e2e/offline-cursor.test'), { pubsub: 'classic' });
