import { pushRepository } from '@im/db';
import { pushWindows } from '@im/redis';
import { createQueue, runWorker, startWorker } from '@im/worker-kit';
import { handlePush } from './push.handler';
import { handleHookEvent } from './hook-event.handler';
import { pushProviders } from './providers';
import { postSigned } from './providers/webhook';

// The outbound role: pushes for offline devices (collapse windows per device, sent to FCM, APNs or
// the webhook) and the send hooks' after_send and after_recall events.
await runWorker('worker-push', ({ config, log, metrics, redis, pool, shards }) => {
  const repo = pushRepository(pool);
  const providers = pushProviders(config.push);
  const windows = pushWindows(redis, config.queue.prefix);
  const pushQueues = shards.map((shard) => createQueue('im.push', redis, config, log, shard));
  const workers = shards.map((shard, i) =>
    startWorker({
      queue: 'im.push',
      shard,
      handler: handlePush,
      deps: {
        windows,
        tokens: repo.tokens,
        muted: repo.muted,
        removeToken: (d, token) => repo.removeToken(d, token),
        providers,
        pushQueue: pushQueues[i]!,
        windowMs: config.push.collapse_window_ms,
        maxAgeMs: config.push.max_age_s * 1000,
        includeContent: config.push.include_content,
        metrics,
        now: Date.now,
      },
      connection: redis,
      config,
      log,
      metrics,
    }),
  );
  const { after_send_url, after_recall_url, secret, events_timeout_ms } = config.hooks;
  const hookWorkers = shards.map((shard) =>
    startWorker({
      queue: 'im.hook',
      shard,
      handler: handleHookEvent,
      deps: { urls: { after_send: after_send_url, after_recall: after_recall_url }, post: (url, body) => postSigned({ url, secret, body, timeoutMs: events_timeout_ms }), metrics },
      connection: redis,
      config,
      log,
      metrics,
    }),
  );
  return {
    workers: [...workers, ...hookWorkers],
    queues: [...pushQueues, { close: async () => void (await Promise.all(Object.values(providers).map((p) => p.close?.()))) }],
    started: { providers: Object.keys(providers), collapseWindowMs: config.push.collapse_window_ms, includeContent: config.push.include_content },
  };
});
