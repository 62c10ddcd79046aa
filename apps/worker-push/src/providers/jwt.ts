import { createPrivateKey, sign, type KeyObject } from 'node:crypto';

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/**
 * A compact JWS: RS256 (the FCM service account's OAuth assertion) or ES256 (the APNs provider
 * token; its signature is the raw r||s pair, not DER, as JWA requires).
 */
export function signJwt(alg: 'RS256' | 'ES256', key: KeyObject | string, header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const input = `${b64url(JSON.stringify({ alg, typ: 'JWT', ...header }))}.${b64url(JSON.stringify(claims))}`;
  const k = typeof key === 'string' ? createPrivateKey(key) : key;
  const signature = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key: k, dsaEncoding: 'ieee-p1363' } : k);
  return `${input}.${b64url(signature)}`;
}
