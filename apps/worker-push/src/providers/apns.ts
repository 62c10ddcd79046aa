import { readFileSync } from 'node:fs';
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { PushNotice, PushProvider, SendOutcome } from './provider';
import { parseRetryAfter, retryableStatus } from './provider';
import { signJwt } from './jwt';

/** APNs accepts a provider token for an hour and refuses new ones more often than every 20 minutes: renewed every 50. */
const TOKEN_LIFE_MS = 50 * 60_000;
/** A push APNs cannot deliver at once is kept this long for the device. */
const EXPIRATION_S = 86_400;

/** The APNs body of a push: a localizable alert (or the text, when included), threaded per conversation. */
export function apnsPayload(n: PushNotice): unknown {
  const alert = n.message.content !== undefined ? { body: n.message.content } : { 'loc-key': 'IM_NEW_MESSAGES', 'loc-args': [String(n.count)] };
  return { aps: { alert, 'thread-id': n.message.conversation, 'mutable-content': 1 }, im: { count: n.count, ...n.message } };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * APNs over HTTP/2 with token authentication: an ES256 JWT (kid = key id, iss = team id) signed
 * with the .p8 key, renewed every 50 minutes and at once after ExpiredProviderToken; one HTTP/2
 * session per process, opened again after it closes.
 */
export function apnsProvider(o: { key: KeyObject | string; keyId: string; teamId: string; topic: string; endpoint: string; timeoutMs: number; now?: () => number }): PushProvider {
  const now = o.now ?? Date.now;
  const key = typeof o.key === 'string' ? createPrivateKey(o.key) : o.key;
  let jwt: { token: string; at: number } | undefined;
  let session: ClientHttp2Session | undefined;

  const providerToken = () => {
    if (!jwt || now() - jwt.at > TOKEN_LIFE_MS) jwt = { token: signJwt('ES256', key, { kid: o.keyId }, { iss: o.teamId, iat: Math.floor(now() / 1000) }), at: now() };
    return jwt.token;
  };
  const open = (): ClientHttp2Session => {
    if (session && !session.closed && !session.destroyed) return session;
    const s = connect(o.endpoint);
    s.on('error', () => {});
    s.on('close', () => {
      if (session === s) session = undefined;
    });
    s.on('goaway', () => {
      if (session === s) session = undefined;
    });
    s.unref();
    session = s;
    return s;
  };

  function request(token: string, notice: PushNotice): Promise<Answer> {
    return new Promise((resolve, reject) => {
      let req;
      try {
        req = open().request({
          [constants.HTTP2_HEADER_METHOD]: 'POST',
          [constants.HTTP2_HEADER_PATH]: `/3/device/${encodeURIComponent(token)}`,
          authorization: `bearer ${providerToken()}`,
          'apns-topic': o.topic,
          'apns-push-type': 'alert',
          'apns-priority': '10',
          'apns-collapse-id': notice.collapse_id,
          'apns-expiration': String(Math.floor(now() / 1000) + EXPIRATION_S),
          'content-type': 'application/json',
        });
      } catch (err) {
        session = undefined;
        reject(err);
        return;
      }
      const timer = setTimeout(() => {
        req.close(constants.NGHTTP2_CANCEL);
        reject(Object.assign(new Error(`no answer within ${o.timeoutMs} ms`), { name: 'TimeoutError' }));
      }, o.timeoutMs);
      let headers: Answer['headers'] = {};
      const chunks: Buffer[] = [];
      req.on('response', (h) => (headers = h));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        clearTimeout(timer);
        resolve({ status: Number(headers[constants.HTTP2_HEADER_STATUS]), headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(JSON.stringify(apnsPayload(notice)));
    });
  }

  return {
    platform: 'apns',
    async send(token, notice): Promise<SendOutcome> {
      let a: Answer;
      try {
        a = await request(token, notice);
      } catch (err) {
        const e = err as Error & { code?: string };
        return { kind: 'retry', reason: e.name === 'TimeoutError' ? e.message : `network: ${e.code ?? e.name}` };
      }
      if (a.status === 200) return { kind: 'sent' };
      let reason = `HTTP ${a.status}`;
      try {
        reason = (JSON.parse(a.body) as { reason?: string }).reason ?? reason;
      } catch {
        // no JSON body: the status says it
      }
      if (a.status === 410 || reason === 'BadDeviceToken' || reason === 'DeviceTokenNotForTopic') return { kind: 'bad_token', reason };
      if (a.status === 403 && (reason === 'ExpiredProviderToken' || reason === 'InvalidProviderToken')) {
        jwt = undefined;
        return { kind: 'retry', reason: `${reason}: a new provider token is signed` };
      }
      if (retryableStatus(a.status)) {
        const ra = a.headers['retry-after'];
        const retryAfterS = parseRetryAfter(Array.isArray(ra) ? ra[0] : ra);
        return { kind: 'retry', reason, ...(retryAfterS !== undefined ? { retryAfterS } : {}) };
      }
      return { kind: 'refused', status: a.status, reason };
    },
    async close() {
      session?.close();
      session = undefined;
    },
  };
}

/** Reads the .p8 signing key (PEM, PKCS#8 EC P-256). */
export function readApnsKey(file: string): KeyObject {
  return createPrivateKey(readFileSync(file, 'utf8'));
}
