import { createHmac } from 'node:crypto';

/**
 * Signed bodies: every body the service sends out to a URL of the deployment (webhook pushes,
 * before_send calls, after_send and after_recall events) carries these two headers.
 */
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

/** The two headers of a body signed now. */
export function signedHeaders(secret: string, body: string, nowMs = Date.now()): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  return { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signBody(secret, ts, body) };
}
