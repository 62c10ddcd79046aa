import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createH2Server, constants as h2, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';

/**
 * Local stand-ins of the push providers that speak their real wire formats and check what a real
 * one checks: the webhook receiver verifies the HMAC signature and the timestamp, the APNs fake
 * (HTTP/2) the ES256 provider token and the apns-* headers, the FCM fake the OAuth JWT-bearer
 * exchange (RS256 assertion) and the bearer token of each send. Each can be told to fail the next
 * requests: a status (429 with Retry-After, 5xx), a delay past the client's timeout, or a token
 * that is gone.
 */

/** A scripted answer to the next request instead of the normal one. */
export interface Failure {
  status?: number;
  retryAfter?: string;
  /** Milliseconds to wait before answering (past the client's timeout: a timeout). */
  delayMs?: number;
}

/** What a fake received and accepted. */
export interface Received {
  at: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

class Script {
  failures: Failure[] = [];
  /** While set, every request gets this (a provider that is down). */
  down: Failure | undefined;
  /** Every request that reached the fake, accepted or not. */
  attempts: { at: number; status: number; key?: string }[] = [];
  next(): Failure | undefined {
    return this.down ?? this.failures.shift();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const b64json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** Verifies a compact JWS against a public key; returns its header and claims, or throws saying why. */
export function verifyJwt(jwt: string, alg: 'ES256' | 'RS256', key: KeyObject): { header: any; claims: any } {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new Error('not a compact JWS');
  const header = b64json(parts[0]!);
  if (header.alg !== alg) throw new Error(`alg ${header.alg}, expected ${alg}`);
  const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, Buffer.from(parts[2]!, 'base64url'));
  if (!ok) throw new Error('bad signature');
  return { header, claims: b64json(parts[1]!) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function listen(server: Server | Http2Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A backend's webhook receiver (pushes and hook events): refuses a bad signature or a stale timestamp with 401. */
export class FakeWebhook extends Script {
  readonly received: Received[] = [];
  readonly refusedSignatures: string[] = [];
  /** Tokens this receiver answers 410 for (a device it no longer knows). */
  readonly goneTokens = new Set<string>();
  /** A hook's answer (before_send): what to reply with 200 for a body. */
  reply: ((body: any) => unknown) | undefined;
  private server: Server | undefined;
  url = '';

  constructor(readonly secret: string, readonly toleranceS = 300) {
    super();
  }

  async start(path = '/push'): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.url = `http://127.0.0.1:${await listen(this.server)}${path}`;
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let key: string | undefined;
    try {
      key = JSON.parse(raw)?.user_id;
    } catch {
      key = undefined;
    }
    const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      this.attempts.push({ at: Date.now(), status, ...(key !== undefined ? { key } : {}) });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    const ts = Number(req.headers['x-im-timestamp']);
    const sig = String(req.headers['x-im-signature'] ?? '');
    const expected = `v1=${createHmac('sha256', this.secret).update(`${ts}.${raw}`).digest('hex')}`;
    if (!Number.isInteger(ts) || Math.abs(Date.now() / 1000 - ts) > this.toleranceS || sig.length !== expected.length || !timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) {
      this.refusedSignatures.push(sig);
      return answer(401, { error: 'bad signature or timestamp' });
    }
    const f = this.next();
    if (f) {
      if (f.delayMs) await sleep(f.delayMs);
      if (f.status) return answer(f.status, { error: 'scripted' }, f.retryAfter ? { 'retry-after': f.retryAfter } : {});
    }
    const body = JSON.parse(raw);
    if (typeof body.token === 'string' && this.goneTokens.has(body.token)) return answer(410, { error: 'unknown device' });
    this.received.push({ at: Date.now(), headers: req.headers, body });
    answer(200, this.reply ? this.reply(body) : { ok: true });
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r) ?? r(undefined));
  }
}

/**
 * APNs over HTTP/2 (h2c on loopback): POST /3/device/{token} with `authorization: bearer <ES256 JWT>`
 * (kid = key id, iss = team id, iat within the hour), apns-topic, apns-push-type, apns-collapse-id
 * (at most 64 bytes); answers as APNs does: 200 with apns-id, 400 {reason}, 403 for a bad token,
 * 410 {reason: Unregistered, timestamp} for a device gone.
 */
export class FakeApns extends Script {
  readonly received: Received[] = [];
  readonly refused: { status: number; reason: string }[] = [];
  readonly goneTokens = new Set<string>();
  readonly badTokens = new Set<string>();
  private server: Http2Server | undefined;
  url = '';
  private readonly key: KeyObject;

  constructor(private readonly o: { publicKeyPem: string; keyId: string; teamId: string; topic: string }) {
    super();
    this.key = createPublicKey(o.publicKeyPem);
  }

  async start(): Promise<this> {
    this.server = createH2Server();
    this.server.on('stream', (stream, headers) => void this.handle(stream, headers));
    this.url = `http://127.0.0.1:${await listen(this.server)}`;
    return this;
  }

  private async handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const answer = (status: number, body?: unknown, extra: Record<string, string> = {}) => {
      this.attempts.push({ at: Date.now(), status });
      if (status !== 200) this.refused.push({ status, reason: (body as { reason?: string } | undefined)?.reason ?? '' });
      if (stream.destroyed) return;
      stream.respond({ ':status': status, 'apns-id': '00000000-0000-0000-0000-000000000001', ...(body ? { 'content-type': 'application/json' } : {}), ...extra });
      stream.end(body ? JSON.stringify(body) : undefined);
    };
    const path = String(headers[h2.HTTP2_HEADER_PATH]);
    const m = /^\/3\/device\/([0-9a-fA-F]+|[\w.-]+)$/.exec(path);
    if (headers[h2.HTTP2_HEADER_METHOD] !== 'POST' || !m) return answer(405, { reason: 'MethodNotAllowed' });
    const auth = String(headers.authorization ?? '');
    if (!auth.startsWith('bearer ')) return answer(403, { reason: 'MissingProviderToken' });
    try {
      const { header, claims } = verifyJwt(auth.slice('bearer '.length), 'ES256', this.key);
      if (header.kid !== this.o.keyId || claims.iss !== this.o.teamId) return answer(403, { reason: 'InvalidProviderToken' });
      if (typeof claims.iat !== 'number' || Math.abs(Date.now() / 1000 - claims.iat) > 3600) return answer(403, { reason: 'ExpiredProviderToken' });
    } catch {
      return answer(403, { reason: 'InvalidProviderToken' });
    }
    if (headers['apns-topic'] !== this.o.topic) return answer(400, { reason: 'BadTopic' });
    if (!['alert', 'background'].includes(String(headers['apns-push-type']))) return answer(400, { reason: 'InvalidPushType' });
    const collapse = headers['apns-collapse-id'];
    if (collapse !== undefined && Buffer.byteLength(String(collapse)) > 64) return answer(400, { reason: 'BadCollapseId' });
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      return answer(400, { reason: 'PayloadEmpty' });
    }
    if (typeof body.aps !== 'object') return answer(400, { reason: 'PayloadEmpty' });
    const f = this.next();
    if (f) {
      if (f.delayMs) await sleep(f.delayMs);
      if (f.status) return answer(f.status, { reason: f.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable' }, f.retryAfter ? { 'retry-after': f.retryAfter } : {});
    }
    const token = m[1]!;
    if (this.badTokens.has(token)) return answer(400, { reason: 'BadDeviceToken' });
    if (this.goneTokens.has(token)) return answer(410, { reason: 'Unregistered', timestamp: Date.now() });
    this.received.push({ at: Date.now(), headers: { ...headers, token }, body });
    answer(200);
  }

  async close(): Promise<void> {
    await new Promise((r) => this.server?.close(r) ?? r(undefined));
  }
}

/**
 * FCM HTTP v1: the OAuth 2.0 token endpoint of a service account (grant_type jwt-bearer, an RS256
 * assertion with iss = client_email, aud = token_uri, the firebase.messaging scope), and
 * POST /v1/projects/{project}/messages:send with the access token; errors in Google's JSON shape
 * (404 NOT_FOUND with errorCode UNREGISTERED for a token gone).
 */
export class FakeFcm extends Script {
  readonly received: Received[] = [];
  readonly tokenRequests: { at: number; claims: any }[] = [];
  readonly goneTokens = new Set<string>();
  private readonly issued = new Set<string>();
  private server: Server | undefined;
  url = '';
  private readonly key: KeyObject;

  constructor(private readonly o: { publicKeyPem: string; clientEmail: string; projectId: string; tokenLifetimeS?: number }) {
    super();
    this.key = createPublicKey(o.publicKeyPem);
  }

  get tokenUri(): string {
    return `${this.url}/token`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.url = `http://127.0.0.1:${await listen(this.server)}`;
    return this;
  }

  /** Forgets every access token issued (as if they expired): the next send gets 401. */
  expireAccessTokens(): void {
    this.issued.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (req.url !== '/token') this.attempts.push({ at: Date.now(), status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const googleError = (code: number, status: string, message: string, errorCode?: string, headers: Record<string, string> = {}) =>
      answer(code, { error: { code, message, status, ...(errorCode ? { details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] } : {}) } }, headers);

    if (req.method === 'POST' && req.url === '/token') {
      const form = new URLSearchParams(raw);
      if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return answer(400, { error: 'invalid_request', error_description: 'form body expected' });
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return answer(400, { error: 'unsupported_grant_type' });
      try {
        const { claims } = verifyJwt(form.get('assertion') ?? '', 'RS256', this.key);
        const now = Date.now() / 1000;
        if (claims.iss !== this.o.clientEmail || claims.aud !== this.tokenUri || claims.scope !== 'https://www.googleapis.com/auth/firebase.messaging') throw new Error('claims');
        if (!(claims.iat <= now + 60 && claims.exp > now && claims.exp - claims.iat <= 3600)) throw new Error('times');
        this.tokenRequests.push({ at: Date.now(), claims });
      } catch (err) {
        return answer(400, { error: 'invalid_grant', error_description: (err as Error).message });
      }
      const token = `ya29.fake-${this.tokenRequests.length}`;
      this.issued.add(token);
      return answer(200, { access_token: token, expires_in: this.o.tokenLifetimeS ?? 3599, token_type: 'Bearer' });
    }
    const m = /^\/v1\/projects\/([\w-]+)\/messages:send$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return googleError(404, 'NOT_FOUND', 'no such method');
    if (m[1] !== this.o.projectId) return googleError(403, 'PERMISSION_DENIED', 'wrong project', 'SENDER_ID_MISMATCH');
    const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!this.issued.has(bearer)) return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.', undefined, { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' });
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      return googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const msg = body?.message;
    if (typeof msg?.token !== 'string') return googleError(400, 'INVALID_ARGUMENT', 'message.token is required', 'INVALID_ARGUMENT');
    if (msg.data && Object.values(msg.data).some((v) => typeof v !== 'string')) return googleError(400, 'INVALID_ARGUMENT', 'data values must be strings', 'INVALID_ARGUMENT');
    const f = this.next();
    if (f) {
      if (f.delayMs) await sleep(f.delayMs);
      if (f.status) return googleError(f.status, f.status === 429 ? 'RESOURCE_EXHAUSTED' : 'UNAVAILABLE', 'scripted', f.status === 429 ? 'QUOTA_EXCEEDED' : 'UNAVAILABLE', f.retryAfter ? { 'retry-after': f.retryAfter } : {});
    }
    if (this.goneTokens.has(msg.token)) return googleError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED');
    this.received.push({ at: Date.now(), headers: req.headers, body });
    answer(200, { name: `projects/${this.o.projectId}/messages/${this.received.length}` });
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r) ?? r(undefined));
  }
}
