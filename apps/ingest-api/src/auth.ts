import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '@im/errors';

/**
 * Bearer-token check shared by HTTP and gRPC. Tokens are compared as SHA-256 digests with
 * timingSafeEqual against every configured token, so the time taken tells nothing about them.
 */
export function bearerAuth(tokens: readonly string[]) {
  const digest = (t: string) => createHash('sha256').update(t).digest();
  const digests = tokens.map(digest);
  return (header: unknown): void => {
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (token === undefined) throw new AppError('UNAUTHENTICATED', 'missing bearer token: send Authorization: Bearer <token>');
    const given = digest(token);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, given) || ok;
    if (!ok) throw new AppError('UNAUTHENTICATED', 'the bearer token is not valid');
  };
}
