/**
 * The layout of a message id (Snowflake-style, 64 bits): 41 bits of milliseconds since
 * ID_EPOCH_MS, 10 bits of node, 12 bits of sequence. Ids are time-ordered, so a time range is an
 * id range (history partitions). @im/redis generates them; anyone may do this arithmetic.
 */

/** 2020-01-01T00:00:00Z: 41 bits of milliseconds from here last until 2089. */
export const ID_EPOCH_MS = 1_577_836_800_000;
export const ID_NODE_BITS = 10;
export const ID_SEQ_BITS = 12;
export const MAX_NODE = (1 << ID_NODE_BITS) - 1;

/** The smallest message id generated at or after `ms`: the bound of time ranges over ids (partitions). */
export function firstIdAt(ms: number): string {
  return (BigInt(Math.max(0, ms - ID_EPOCH_MS)) << BigInt(ID_NODE_BITS + ID_SEQ_BITS)).toString();
}

/** The millisecond a message id was generated at. */
export function idTimestamp(messageId: string): number {
  return Number(BigInt(messageId) >> BigInt(ID_NODE_BITS + ID_SEQ_BITS)) + ID_EPOCH_MS;
}
