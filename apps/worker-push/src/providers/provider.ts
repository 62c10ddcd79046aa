import type { PushPlatform } from '@im/contracts';

/** The newest message of a push's window, as every provider carries it (docs/push.md). */
export interface PushMessage {
  message_id: string;
  seq: number;
  sender_id: string;
  receiver_id: string | null;
  group_id: string | null;
  conversation: string;
  message_type: string;
  timestamp: number;
  /** Only with push.include_content. */
  content?: string;
}

/** One push: a device's collapse window, with its count and its newest message. */
export interface PushNotice {
  user_id: string;
  device_id: string;
  /** Messages the window gathered. */
  count: number;
  /** Replaces an earlier push of the same conversation on the device (APNs apns-collapse-id, FCM collapse_key); also the thread id. */
  collapse_id: string;
  message: PushMessage;
}

/** What a provider made of a push. */
export type SendOutcome =
  | { kind: 'sent' }
  /** The token is gone (FCM UNREGISTERED / 404, APNs 410 or BadDeviceToken): remove it, never retry. */
  | { kind: 'bad_token'; reason: string }
  /** Refused for good (a payload or setup the provider will never take): not retried. */
  | { kind: 'refused'; status: number; reason: string }
  /** Not now (429, 5xx, a timeout, the network): retried with the backoff, at least Retry-After. */
  | { kind: 'retry'; reason: string; retryAfterS?: number };

/** One push provider behind the one interface worker-push uses. */
export interface PushProvider {
  readonly platform: PushPlatform;
  send(token: string, notice: PushNotice): Promise<SendOutcome>;
  close?(): Promise<void>;
}

/** Seconds of an HTTP Retry-After (delta-seconds or an HTTP date), if it says any. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}

/** Whether a status is worth retrying: 429 and 5xx. */
export const retryableStatus = (status: number) => status === 429 || status >= 500;

/** An error of fetch (a timeout, a refused connection, DNS) as a retry. */
export function networkOutcome(err: unknown, timeoutMs: number): SendOutcome {
  const e = err as { name?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { kind: 'retry', reason: `no answer within ${timeoutMs} ms` };
  return { kind: 'retry', reason: `network: ${e?.cause?.code ?? e?.name ?? 'error'}` };
}
