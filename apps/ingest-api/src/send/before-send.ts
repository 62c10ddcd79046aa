import { codePointLength, signedHeaders, type SendRequest } from '@im/contracts';
import { AppError, permissionDenied } from '@im/errors';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import { MicroBatcher } from '@im/worker-kit';

/** What the hook said of one message. */
export type HookVerdict = { action: 'accept' } | { action: 'refuse'; reason: string } | { action: 'replace'; content: string };

/** For each send, in order: the send to admit (its content maybe replaced), or the error that answers it. */
export type BeforeSend = (reqs: readonly SendRequest[]) => Promise<(SendRequest | AppError)[]>;

/** The body of a before_send call (docs/hooks.md, BeforeSendRequest). */
export function beforeSendBody(reqs: readonly SendRequest[]): string {
  return JSON.stringify({
    event: 'before_send',
    messages: reqs.map((r) => ({
      sender_id: r.sender_id,
      receiver_id: r.kind === 'single' ? r.receiver_id : null,
      group_id: r.kind === 'group' ? r.group_id : null,
      content: r.content,
      message_type: r.message_type,
      client_msg_id: r.client_msg_id,
    })),
  });
}

/** The hook's answer as verdicts, one per message, or the reason it cannot be taken. */
export function parseVerdicts(body: unknown, n: number, maxMessageLength: number): HookVerdict[] | string {
  const results = (body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results) || results.length !== n) return `expected {"results": [...]} with ${n} result(s)`;
  const out: HookVerdict[] = [];
  for (const r of results as { action?: unknown; reason?: unknown; content?: unknown }[]) {
    if (r?.action === 'accept') out.push({ action: 'accept' });
    else if (r?.action === 'refuse') out.push({ action: 'refuse', reason: typeof r.reason === 'string' && r.reason.trim() ? r.reason.slice(0, 200) : 'no reason given' });
    else if (r?.action === 'replace') {
      if (typeof r.content !== 'string' || !r.content.isWellFormed() || codePointLength(r.content) < 1 || codePointLength(r.content) > maxMessageLength) return `a replacement must be 1 to ${maxMessageLength} characters of text`;
      out.push({ action: 'replace', content: r.content });
    } else return 'each result needs "action": accept, refuse or replace';
  }
  return out;
}

/**
 * The before_send hook: one signed POST per micro-batch of concurrent sends (a batch request's
 * messages, and the sends of other requests arriving within `batch.maxWaitMs`, up to
 * `batch.maxItems`), bounded by `timeoutMs`, on the shared send path (HTTP and gRPC alike). Each message is accepted, refused
 * (the sender gets 403 PERMISSION_DENIED naming the reason) or admitted with the hook's content.
 * When the hook fails (an error, a timeout, an answer that is not 2xx or not as documented) the
 * policy decides: fail_open admits the sends unchanged, fail_closed answers them 503 (nothing
 * accepted, safe to retry). Its latency is im_hook_duration_seconds{hook="before_send", result}.
 */
export function beforeSendHook(o: {
  url: string;
  secret: string;
  timeoutMs: number;
  policy: 'fail_open' | 'fail_closed';
  maxMessageLength: number;
  metrics: Metrics;
  log: Logger;
  /** Concurrent sends share a call: up to maxItems, waiting at most maxWaitMs for more (queue.batch_size, batch_wait_ms). */
  batch: { maxItems: number; maxWaitMs: number };
}): BeforeSend {
  const call = async (reqs: readonly SendRequest[]): Promise<(SendRequest | AppError)[]> => {
    const body = beforeSendBody(reqs);
    const end = o.metrics.hookDuration.startTimer({ hook: 'before_send' });
    let verdicts: HookVerdict[] | string;
    let result: 'ok' | 'timeout' | 'error' = 'ok';
    try {
      const res = await fetch(o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signedHeaders(o.secret, body) },
        body,
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      const answer = await res.json().catch(() => undefined);
      verdicts = res.ok ? parseVerdicts(answer, reqs.length, o.maxMessageLength) : `HTTP ${res.status}`;
    } catch (err) {
      const name = (err as Error).name;
      result = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'error';
      verdicts = result === 'timeout' ? `no answer within ${o.timeoutMs} ms` : `${(err as { cause?: { code?: string } }).cause?.code ?? name}`;
    }
    if (typeof verdicts === 'string' && result === 'ok') result = 'error';
    end({ result });
    if (typeof verdicts === 'string') {
      o.metrics.hookMessages.inc({ hook: 'before_send', action: o.policy }, reqs.length);
      o.log.warn({ reason: verdicts, policy: o.policy, messages: reqs.length }, 'the before_send hook failed; its policy applies');
      if (o.policy === 'fail_open') return [...reqs];
      const error = new AppError('UNAVAILABLE', `the before_send hook did not answer as it should (${verdicts}) and hooks.before_send_policy is fail_closed; nothing was accepted, retry`, { reason: 'HOOK_UNAVAILABLE' });
      return reqs.map(() => error);
    }
    return reqs.map((req, i) => {
      const v = (verdicts as HookVerdict[])[i]!;
      o.metrics.hookMessages.inc({ hook: 'before_send', action: v.action });
      if (v.action === 'refuse') return permissionDenied('HOOK_REFUSED', `the before_send hook refused the message: ${v.reason}`);
      if (v.action === 'replace') return { ...req, content: v.content };
      return req;
    });
  };
  // While calls are in flight, arrivals gather into the next, larger one.
  const batcher = new MicroBatcher<SendRequest, SendRequest | AppError>(call, { maxItems: o.batch.maxItems, maxWaitMs: o.batch.maxWaitMs, maxInFlight: 8 });
  return (reqs) => batcher.addMany(reqs);
}
