import { timingSafeEqual } from 'node:crypto';
import { AppError } from '@im/errors';

/** Configured tokens are at most 256 characters (config schema); every comparison is this wide. */
const WIDTH = 256;

function padded(token: string): Buffer {
  const b = Buffer.alloc(WIDTH);
  b.write(token.slice(0, WIDTH), 'latin1');
  return b;
}

/**
 * Bearer-token check shared by HTTP and gRPC. The given token is compared with every configured
 * one over a fixed width with timingSafeEqual (and its length compared as a number), so the time
 * taken tells nothing about the tokens. `compare` is there for tests to watch the comparisons.
 */
export function bearerAuth(tokens: readonly string[], compare: (a: Buffer, b: Buffer) => boolean = timingSafeEqual) {
  const known = tokens.map((t) => ({ bytes: padded(t), length: t.length }));
  return (header: unknown): void => {
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (token === undefined) throw new AppError('UNAUTHENTICATED', 'missing bearer token: send Authorization: Bearer <token>', { reason: 'MISSING_TOKEN' });
    const given = padded(token);
    let ok = false;
    for (const k of known) ok = (compare(k.bytes, given) && k.length === token.length) || ok;
    if (!ok) throw new AppError('UNAUTHENTICATED', 'the bearer token is not valid', { reason: 'INVALID_TOKEN' });
  };
}
