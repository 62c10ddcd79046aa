import { readFileSync } from 'node:fs';
import type { PushNotice, PushProvider, SendOutcome } from './provider';
import { networkOutcome, parseRetryAfter, retryableStatus } from './provider';
import { signJwt } from './jwt';

/** The fields of a Google service account's JSON key that FCM needs. */
export interface ServiceAccount {
  project_id: string;
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri: string;
}

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/** Reads and checks a service account key file; a missing field is named. */
export function readServiceAccount(file: string): ServiceAccount {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Partial<ServiceAccount>;
  for (const k of ['project_id', 'client_email', 'private_key', 'token_uri'] as const) {
    if (typeof json[k] !== 'string' || json[k] === '') throw new Error(`push.fcm_credentials_file ${file}: "${k}" is missing`);
  }
  return json as ServiceAccount;
}

/** The FCM v1 message of a push: a data message (values are strings), collapsed per conversation. */
export function fcmMessage(token: string, n: PushNotice): unknown {
  const m = n.message;
  const data: Record<string, string> = {
    type: 'im.push',
    count: String(n.count),
    message_id: m.message_id,
    seq: String(m.seq),
    sender_id: m.sender_id,
    receiver_id: m.receiver_id ?? '',
    group_id: m.group_id ?? '',
    conversation: m.conversation,
    message_type: m.message_type,
    timestamp: String(m.timestamp),
    ...(m.content !== undefined ? { content: m.content } : {}),
  };
  return {
    message: {
      token,
      data,
      android: { collapse_key: n.collapse_id, priority: 'high' },
      apns: { headers: { 'apns-collapse-id': n.collapse_id } },
    },
  };
}

/** The errorCode of a Google API error body (details[].errorCode of FcmError), if any. */
function fcmErrorCode(body: unknown): string | undefined {
  const details = (body as { error?: { details?: { errorCode?: string }[] } } | undefined)?.error?.details ?? [];
  return details.find((d) => typeof d.errorCode === 'string')?.errorCode;
}

/**
 * FCM HTTP v1. The access token comes from the service account: an RS256 JWT assertion exchanged
 * at its token_uri (OAuth 2.0 JWT bearer grant), kept until a minute before it expires; concurrent
 * sends share one exchange. A 401 drops it (the retry gets a new one).
 */
export function fcmProvider(o: { account: ServiceAccount; endpoint: string; timeoutMs: number; now?: () => number }): PushProvider {
  const now = o.now ?? Date.now;
  let cached: { token: string; until: number } | undefined;
  let pending: Promise<string> | undefined;

  async function exchange(): Promise<string> {
    const iat = Math.floor(now() / 1000);
    const assertion = signJwt('RS256', o.account.private_key, o.account.private_key_id ? { kid: o.account.private_key_id } : {}, {
      iss: o.account.client_email,
      scope: FCM_SCOPE,
      aud: o.account.token_uri,
      iat,
      exp: iat + 3600,
    });
    const res = await fetch(o.account.token_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string };
    if (!res.ok || typeof body.access_token !== 'string') throw Object.assign(new Error(`FCM token exchange: HTTP ${res.status} ${body.error ?? ''}`.trim()), { status: res.status });
    cached = { token: body.access_token, until: now() + Math.max(0, (body.expires_in ?? 3600) - 60) * 1000 };
    return body.access_token;
  }

  async function accessToken(): Promise<string> {
    if (cached && now() < cached.until) return cached.token;
    pending ??= exchange().finally(() => (pending = undefined));
    return pending;
  }

  return {
    platform: 'fcm',
    async send(token, notice): Promise<SendOutcome> {
      let bearer: string;
      try {
        bearer = await accessToken();
      } catch (err) {
        const status = (err as { status?: number }).status;
        // A refused exchange is a setup fault the operator fixes; the pushes wait for it (alerted).
        return status !== undefined ? { kind: 'retry', reason: (err as Error).message } : networkOutcome(err, o.timeoutMs);
      }
      let res: Response;
      let body: unknown;
      try {
        res = await fetch(`${o.endpoint.replace(/\/$/, '')}/v1/projects/${encodeURIComponent(o.account.project_id)}/messages:send`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
          body: JSON.stringify(fcmMessage(token, notice)),
          signal: AbortSignal.timeout(o.timeoutMs),
        });
        body = await res.json().catch(() => undefined);
      } catch (err) {
        return networkOutcome(err, o.timeoutMs);
      }
      if (res.ok) return { kind: 'sent' };
      const code = fcmErrorCode(body);
      if (res.status === 404 || code === 'UNREGISTERED') return { kind: 'bad_token', reason: code ?? `HTTP ${res.status}` };
      // The token belongs to another sender (project): it can never take this one's pushes.
      if (code === 'SENDER_ID_MISMATCH') return { kind: 'bad_token', reason: code };
      if (res.status === 401) {
        cached = undefined;
        return { kind: 'retry', reason: 'HTTP 401: access token refused; a new one is fetched' };
      }
      if (retryableStatus(res.status)) {
        const retryAfterS = parseRetryAfter(res.headers.get('retry-after'));
        return { kind: 'retry', reason: `HTTP ${res.status}${code ? ` ${code}` : ''}`, ...(retryAfterS !== undefined ? { retryAfterS } : {}) };
      }
      return { kind: 'refused', status: res.status, reason: code ?? `HTTP ${res.status}` };
    },
  };
}
