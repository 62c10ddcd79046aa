import { onCluster } from '../support/cluster';

await onCluster(() => import('../integration/hot-history.test'), { shards: 4 });
