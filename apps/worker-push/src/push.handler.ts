import { conversationOf, JOB_NAMES, jobIds, type AcceptedMessage, type PushDevice, type PushJob, type PushPlatform } from '@im/contracts';
import type { PushToken } from '@im/db';
import { AppError } from '@im/errors';
import type { Metrics } from '@im/metrics';
import type { PushWindows } from '@im/redis';
import type { Handler, TypedQueue } from '@im/worker-kit';
import type { PushMessage, PushNotice, PushProvider } from './providers/provider';

export interface PushDeps {
  windows: Pick<PushWindows, 'add' | 'take' | 'sent'>;
  /** The tokens of the given devices (push_token). */
  tokens(devices: readonly PushDevice[]): Promise<PushToken[]>;
  /** The `user_id/conversation` pairs muted among the given ones. */
  muted(pairs: readonly { user_id: string; conversation: string }[]): Promise<Set<string>>;
  /** Removes a device's token while it is still `token`. */
  removeToken(device: PushDevice, token: string): Promise<boolean>;
  /** The configured providers; a device registered for another gets no push. */
  providers: Partial<Record<PushPlatform, PushProvider>>;
  /** The shard's push queue: the jobs that close windows go there, delayed. */
  pushQueue: Pick<TypedQueue<'im.push'>, 'addBulk'>;
  windowMs: number;
  /** push.max_age_s in ms: an older newest message is not pushed (0: no limit). */
  maxAgeMs: number;
  includeContent: boolean;
  metrics: Metrics;
  now(): number;
}

/** The newest message of a window as pushes carry it: ids, conversation, type and time; its text only with push.include_content. */
export function pushMessage(m: AcceptedMessage, includeContent: boolean): PushMessage {
  return {
    message_id: m.message_id,
    seq: m.seq,
    sender_id: m.sender_id,
    receiver_id: m.receiver_id,
    group_id: m.group_id,
    conversation: conversationOf(m),
    message_type: m.message_type,
    timestamp: m.created_at,
    ...(includeContent ? { content: m.content } : {}),
  };
}

const muteKey = (userId: string, conversation: string) => `${userId}/${conversation}`;
const deviceKey = (d: PushDevice) => `${d.user_id}/${d.device_id}`;

/**
 * worker-push's one handler, for both kinds of im.push job:
 * - offline deliveries: each (message, device) that has a token and whose conversation the user
 *   did not mute joins the device's collapse window (Redis; a message counts once however often
 *   it comes); a window it opens gets the job that closes it, delayed by push.collapse_window_ms;
 * - a closed window: sent as one push (its count and newest message) to the device's provider. A
 *   token the provider says is gone is removed and the push dropped; a refusal for good is dropped;
 *   429, 5xx, a timeout or the network retry the job with the backoff, at least Retry-After.
 *   A window whose newest message is older than push.max_age_s when its turn comes (a provider
 *   down for long) is dropped as expired: a late push would only wake the phone for old news.
 */
export const handlePush: Handler<'im.push', PushDeps> = async (job: PushJob, { deps, log }) => {
  if ('deliveries' in job) return windowDeliveries(job.deliveries, deps);
  const d = { user_id: job.flush.user_id, device_id: job.flush.device_id };
  const window = job.flush.window;
  const closed = await deps.windows.take(d, window);
  if (!closed) return;
  const [token] = await deps.tokens([d]);
  const provider = token ? deps.providers[token.platform] : undefined;
  if (!token || !provider) {
    if (token) log.warn({ platform: token.platform, user_id: d.user_id, device_id: d.device_id }, 'no provider configured for the device’s platform; push dropped');
    await deps.windows.sent(d, window);
    return;
  }
  const message = JSON.parse(closed.newest) as PushMessage;
  if (deps.maxAgeMs > 0 && deps.now() - message.timestamp > deps.maxAgeMs) {
    deps.metrics.pushes.inc({ provider: provider.platform, result: 'expired' });
    log.info({ provider: provider.platform, user_id: d.user_id, device_id: d.device_id, ageS: Math.round((deps.now() - message.timestamp) / 1000) }, 'push older than push.max_age_s; dropped');
    await deps.windows.sent(d, window);
    return;
  }
  const notice: PushNotice = { ...d, count: closed.count, collapse_id: message.conversation, message };
  const end = deps.metrics.pushDuration.startTimer({ provider: provider.platform });
  const outcome = await provider.send(token.token, notice);
  end();
  if (outcome.kind === 'retry') {
    deps.metrics.pushes.inc({ provider: provider.platform, result: 'retried' });
    throw new AppError('UNAVAILABLE', `${provider.platform} push not taken (${outcome.reason}); retrying`, { reason: 'DEPENDENCY_UNAVAILABLE', ...(outcome.retryAfterS !== undefined ? { retryAfterS: outcome.retryAfterS } : {}) });
  }
  if (outcome.kind === 'bad_token') {
    await deps.removeToken(d, token.token);
    log.info({ provider: provider.platform, user_id: d.user_id, device_id: d.device_id, reason: outcome.reason }, 'push token refused by its provider; removed');
    deps.metrics.pushes.inc({ provider: provider.platform, result: 'bad_token' });
  } else if (outcome.kind === 'refused') {
    log.warn({ provider: provider.platform, user_id: d.user_id, device_id: d.device_id, status: outcome.status, reason: outcome.reason }, 'push refused for good; dropped');
    deps.metrics.pushes.inc({ provider: provider.platform, result: 'refused' });
  } else {
    deps.metrics.pushes.inc({ provider: provider.platform, result: 'sent' });
  }
  await deps.windows.sent(d, window);
};

async function windowDeliveries(deliveries: Extract<PushJob, { deliveries: unknown }>['deliveries'], deps: PushDeps): Promise<void> {
  const devices = new Map<string, PushDevice>();
  const pairs = new Map<string, { user_id: string; conversation: string }>();
  for (const { message, devices: ds } of deliveries) {
    const conversation = conversationOf(message);
    for (const d of ds) {
      devices.set(deviceKey(d), d);
      pairs.set(muteKey(d.user_id, conversation), { user_id: d.user_id, conversation });
    }
  }
  const [tokens, muted] = await Promise.all([deps.tokens([...devices.values()]), deps.muted([...pairs.values()])]);
  const registered = new Set(tokens.map(deviceKey));
  const now = deps.now();
  const closers = new Map<string, Parameters<PushDeps['pushQueue']['addBulk']>[0][number]>();
  for (const { message, devices: ds } of deliveries) {
    const conversation = conversationOf(message);
    const body = JSON.stringify(pushMessage(message, deps.includeContent));
    for (const d of ds) {
      if (muted.has(muteKey(d.user_id, conversation))) {
        deps.metrics.pushDeliveries.inc({ result: 'muted' });
        continue;
      }
      if (!registered.has(deviceKey(d))) {
        deps.metrics.pushDeliveries.inc({ result: 'no_token' });
        continue;
      }
      const window = await deps.windows.add(d, message.message_id, body, String(now));
      deps.metrics.pushDeliveries.inc({ result: 'windowed' });
      const flush = { user_id: d.user_id, device_id: d.device_id, window };
      const jobId = jobIds.pushFlush(flush);
      // Added for every message of the window (not only the one that opened it): an add whose id
      // is still queued adds nothing, and a retry after a lost add still closes the window.
      closers.set(jobId, { name: JOB_NAMES['im.push'], data: { flush }, opts: { jobId, delay: Math.max(0, Number(window) + deps.windowMs - now) } });
    }
  }
  if (closers.size > 0) await deps.pushQueue.addBulk([...closers.values()]);
}
