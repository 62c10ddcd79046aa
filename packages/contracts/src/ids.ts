/** 64-bit ids travel as decimal strings (CONTRACT.md section 1); these helpers keep them exact. */
const MAX_ID = (1n << 63n) - 1n;
/** A 64-bit id as the contract writes it: decimal, no leading zero, at most 19 digits (parseId also bounds it by 2^63). */
export const ID_PATTERN = /^[1-9]\d{0,18}$/;

/**
 * Accepts a decimal string or a safe JSON integer, positive and below 2^63.
 * Returns the canonical decimal string, or undefined when the value is not a valid id.
 */
export function parseId(value: unknown): string | undefined {
  if (typeof value === 'string') {
    if (!ID_PATTERN.test(value)) return undefined;
    return BigInt(value) <= MAX_ID ? value : undefined;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  return undefined;
}

/** Key of a single-chat conversation: the two user ids, smaller first (compared as numbers). */
export function pairKey(a: string, b: string): string {
  return compareIds(a, b) <= 0 ? `${a}:${b}` : `${b}:${a}`;
}

/** Numeric comparison of two canonical decimal ids without BigInt allocation. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Conversation keys, as history, counters and caches name a conversation. */
export const conversationKeys = {
  /** A single chat: 's:{low}:{high}', the same from either side. */
  single: (a: string, b: string) => `s:${pairKey(a, b)}`,
  /** A group: 'g:{group_id}'. */
  group: (groupId: string) => `g:${groupId}`,
} as const;

/** The conversation key of a message: its group's, or its sender and receiver's. */
export function conversationOf(m: { sender_id: string; receiver_id: string | null; group_id: string | null }): string {
  if (m.group_id !== null) return conversationKeys.group(m.group_id);
  if (m.receiver_id === null) throw new Error('a message needs a receiver_id or a group_id');
  return conversationKeys.single(m.sender_id, m.receiver_id);
}
