import { createHash } from 'node:crypto';
import { invalidArgument } from '@im/errors';

/**
 * Opaque cursors of the lists that can grow (CONTRACT.md section 3, "Paging"): base64url of a
 * small JSON text holding the list it belongs to, a digest of what the list was asked for (the
 * user or group, and a search's keyword and times) and the keyset position of the last row of the
 * page. A cursor of another list, user, group or query, or one that is not ours at all, is refused
 * with 400 INVALID_ARGUMENT (reason INVALID_CURSOR), and nothing is read.
 */

/** The keyset position of each list, in its order. */
export interface Positions {
  /** updated_at DESC, conversation DESC. */
  conversations: readonly [updatedAt: number, conversation: string];
  /** created_at DESC, message_id DESC. */
  search: readonly [createdAt: number, messageId: string];
  /** user_id ascending. */
  members: readonly [userId: string];
}
export type ListName = keyof Positions;

const VERSION = 1;
const MAX_LENGTH = 512;
const ID = /^[1-9]\d{0,18}$/;
const CONVERSATION = /^(s:[1-9]\d{0,18}:[1-9]\d{0,18}|g:[1-9]\d{0,18})$/;
const isMs = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isId = (v: unknown): v is string => typeof v === 'string' && ID.test(v) && BigInt(v) < 2n ** 63n;

const VALID: { [L in ListName]: (p: readonly unknown[]) => boolean } = {
  conversations: (p) => p.length === 2 && isMs(p[0]) && typeof p[1] === 'string' && CONVERSATION.test(p[1]),
  search: (p) => p.length === 2 && isMs(p[0]) && isId(p[1]),
  members: (p) => p.length === 1 && isId(p[0]),
};

/** What a list was asked for, as a short digest: a cursor is only good for the same question. */
function scopeOf(list: ListName, scope: readonly (string | number | null)[]): string {
  return createHash('sha256').update(JSON.stringify([list, ...scope])).digest('base64url').slice(0, 16);
}

export function encodeCursor<L extends ListName>(list: L, scope: readonly (string | number | null)[], position: Positions[L]): string {
  return Buffer.from(JSON.stringify({ v: VERSION, l: list, s: scopeOf(list, scope), p: position })).toString('base64url');
}

/** The position a cursor holds; null when none was given (the first page). */
export function decodeCursor<L extends ListName>(list: L, scope: readonly (string | number | null)[], cursor: string | null): Positions[L] | null {
  if (cursor === null) return null;
  const refuse = (why: string) => invalidArgument(`cursor is not a cursor of this list: ${why}; pass the next_cursor of the previous page as it came, or none for the first page`, 'INVALID_CURSOR');
  if (cursor.length > MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse('malformed');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse('malformed');
  }
  const c = value as { v?: unknown; l?: unknown; s?: unknown; p?: unknown } | null;
  if (typeof c !== 'object' || c === null || c.v !== VERSION || !Array.isArray(c.p)) throw refuse('malformed');
  if (c.l !== list) throw refuse(`it belongs to another list (${typeof c.l === 'string' ? c.l.slice(0, 20) : '?'})`);
  if (c.s !== scopeOf(list, scope)) throw refuse('it was issued for another user, group or query');
  if (!VALID[list](c.p)) throw refuse('malformed');
  return c.p as unknown as Positions[L];
}
