import { groupsRepository } from '@im/db';
import { groupMembersCache } from '@im/redis';
import { createQueue, handOff, runWorker, startWorker } from '@im/worker-kit';
import { handleFanout } from './fanout.handler';

const CHUNK_SIZE = 500;

// Group messages into delivery jobs of CHUNK_SIZE members, on each consumed shard.
await runWorker('worker-fanout', ({ config, log, metrics, redis, pool, shards }) => {
  const members = groupMembersCache(redis, groupsRepository(pool).members);
  const deliverQueues = shards.map((shard) => createQueue('im.deliver', redis, config, log, shard));
  const workers = shards.map((shard, i) =>
    startWorker({
      queue: 'im.fanout',
      shard,
      handler: handleFanout,
      deps: { members: members.members, deliverQueue: deliverQueues[i]!, handOff: handOff({ connection: redis, config, shard, log }), chunkSize: CHUNK_SIZE },
      connection: redis,
      config,
      log,
      metrics,
    }),
  );
  return { workers, queues: deliverQueues, started: { chunkSize: CHUNK_SIZE } };
});
