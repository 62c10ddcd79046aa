import { signedHeaders } from '@im/contracts';
import type { PushNotice, PushProvider, SendOutcome } from './provider';
import { networkOutcome, parseRetryAfter, retryableStatus } from './provider';

/** A POST of a JSON body, signed (@im/contracts signature.ts): the outcome by status (2xx sent, 429/5xx retried, others refused). */
export async function postSigned(o: { url: string; secret: string; body: string; timeoutMs: number; headers?: Record<string, string>; now?: () => number }): Promise<SendOutcome & { status?: number }> {
  let res: Response;
  try {
    res = await fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedHeaders(o.secret, o.body, (o.now ?? Date.now)()), ...o.headers },
      body: o.body,
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
  } catch (err) {
    return networkOutcome(err, o.timeoutMs);
  }
  if (res.ok) return { kind: 'sent', status: res.status };
  if (retryableStatus(res.status)) {
    const retryAfterS = parseRetryAfter(res.headers.get('retry-after'));
    return { kind: 'retry', reason: `HTTP ${res.status}`, ...(retryAfterS !== undefined ? { retryAfterS } : {}), status: res.status };
  }
  return { kind: 'refused', status: res.status, reason: `HTTP ${res.status}` };
}

/** The webhook body of a push: the notice and the device's token (docs/push.md, PushWebhook). */
export function webhookBody(token: string, n: PushNotice): string {
  return JSON.stringify({ event: 'push', user_id: n.user_id, device_id: n.device_id, token, count: n.count, collapse_id: n.collapse_id, message: n.message });
}

/**
 * The generic provider: POSTs each push, signed, to push.webhook_url, for a backend of the
 * deployment's own to hand on. 404 and 410 mean the token is unknown there: removed.
 */
export function webhookProvider(o: { url: string; secret: string; timeoutMs: number }): PushProvider {
  return {
    platform: 'webhook',
    async send(token, notice) {
      const out = await postSigned({ url: o.url, secret: o.secret, body: webhookBody(token, notice), timeoutMs: o.timeoutMs });
      if (out.kind === 'refused' && (out.status === 404 || out.status === 410)) return { kind: 'bad_token', reason: `HTTP ${out.status}` };
      return out;
    },
  };
}
