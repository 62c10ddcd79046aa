import { conversationOf, type HookJob } from '@im/contracts';
import { AppError } from '@im/errors';
import type { Metrics } from '@im/metrics';
import type { Handler } from '@im/worker-kit';
import type { SendOutcome } from './providers/provider';

export interface HookEventDeps {
  /** hooks.after_send_url and after_recall_url (empty: that event is not sent). */
  urls: { after_send: string; after_recall: string };
  /** A signed POST of a JSON body (webhook.ts postSigned with hooks.secret and hooks.events_timeout_ms). */
  post(url: string, body: string): Promise<SendOutcome & { status?: number }>;
  metrics: Metrics;
}

/** The body of an event (docs/hooks.md: AfterSendEvent, AfterRecallEvent); event_id is the job's, the same on every attempt. */
export function eventBody(job: HookJob, eventId: string): string {
  if (job.event === 'after_recall') return JSON.stringify({ event: 'after_recall', event_id: eventId, ...job.recall });
  return JSON.stringify({
    event: 'after_send',
    event_id: eventId,
    messages: job.messages.map((m) => ({
      message_id: m.message_id,
      seq: m.seq,
      sender_id: m.sender_id,
      receiver_id: m.receiver_id,
      group_id: m.group_id,
      conversation: conversationOf(m),
      content: m.content,
      message_type: m.message_type,
      timestamp: m.created_at,
      client_msg_id: m.client_msg_id,
    })),
  });
}

/**
 * worker-push as the outbound role: POSTs an after_send or after_recall event, signed, to its URL.
 * At least once: 429, 5xx, a timeout or the network retry with the backoff (no sooner than
 * Retry-After) until the receiver takes it, so receivers drop repeats by event_id. A receiver that
 * refuses it (another 4xx, a bad signature among them) sends the job to the failed set, kept for an
 * operator (`im-message failed im.hook`). None of this is on a send's path.
 */
export const handleHookEvent: Handler<'im.hook', HookEventDeps> = async (job, { deps, log, job: bull }) => {
  const url = deps.urls[job.event];
  if (!url) {
    log.warn({ event: job.event }, 'an event whose hook URL is no longer configured; dropped');
    return;
  }
  const end = deps.metrics.hookDuration.startTimer({ hook: job.event });
  const out = await deps.post(url, eventBody(job, String(bull.id)));
  end({ result: out.kind === 'retry' && /no answer within/.test(out.reason) ? 'timeout' : out.kind === 'sent' ? 'ok' : 'error' });
  if (out.kind === 'sent') {
    deps.metrics.hookMessages.inc({ hook: job.event, action: 'sent' }, job.event === 'after_send' ? job.messages.length : 1);
    return;
  }
  if (out.kind === 'retry') throw new AppError('UNAVAILABLE', `${job.event} event not taken (${out.reason}); retrying`, { reason: 'DEPENDENCY_UNAVAILABLE', ...(out.retryAfterS !== undefined ? { retryAfterS: out.retryAfterS } : {}) });
  throw new AppError('INVALID_ARGUMENT', `${job.event} event refused by its receiver (${out.kind === 'refused' ? out.reason : out.kind}); kept in the failed set`, { reason: 'INVALID_FIELD' });
};
