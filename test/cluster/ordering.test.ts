import { onCluster } from '../support/cluster';

await onCluster(() => import('../e2e/ordering.test'));
