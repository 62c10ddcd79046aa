import { createHmac } from 'node:crypto';
import type { PushNotice, PushProvider, SendOutcome } from './provider';
import { networkOutcome, parseRetryAfter, retryableStatus } from './provider';

/** Headers of a signed body (pushes and hook events alike, docs/push.md). */
export const SIGNATURE_HEADER = 'x-im-signature';
export const TIMESTAMP_HEADER = 'x-im-timestamp';

/**
 * The signature of a body sent at `timestamp` (Unix seconds): `v1=` and the hex HMAC-SHA256, keyed
 * by the shared secret, of `{timestamp}.{body}`. A receiver recomputes it over the raw body and
 * refuses a timestamp more than 5 minutes from its clock (a replayed request).
 */
export function signBody(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** A POST of a signed JSON body: the outcome by status (2xx sent, 429/5xx retried, others refused). */
export async function postSigned(o: { url: string; secret: string; body: string; timeoutMs: number; headers?: Record<string, string>; now?: () => number }): Promise<SendOutcome & { status?: number }> {
  const ts = Math.floor((o.now ?? Date.now)() / 1000);
  let res: Response;
  try {
    res = await fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signBody(o.secret, ts, o.body), ...o.headers },
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
