/** 64-bit ids travel as decimal strings (CONTRACT.md section 1); these helpers keep them exact. */
const MAX_ID = (1n << 63n) - 1n;
const DECIMAL = /^[1-9]\d{0,18}$/;

/**
 * Accepts a decimal string or a safe JSON integer, positive and below 2^63.
 * Returns the canonical decimal string, or undefined when the value is not a valid id.
 */
export function parseId(value: unknown): string | undefined {
  if (typeof value === 'string') {
    if (!DECIMAL.test(value)) return undefined;
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
