import type { PartitionsRepository } from './repositories/partitions.repository';
import { firstIdAt, idTimestamp } from '@im/contracts';

/** Start of the UTC month containing `ms`, moved by `add` months. */
export function monthStart(ms: number, add = 0): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1);
}

/** The partition holding the month that starts at `start`: pYYYYMM, bounded by the next month's first id. */
export function monthPartition(start: number): { name: string; lessThan: string } {
  const d = new Date(start);
  return { name: `p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`, lessThan: firstIdAt(monthStart(start, 1)) };
}

export interface PartitionReport {
  partitioned: boolean;
  added: string[];
  dropped: string[];
}

/**
 * Monthly partitions of message_history by message_id range (ids are time-ordered): keeps
 * `monthsAhead` months ready past the current one and, with a retention, drops months that ended
 * before it. A table that is not partitioned is left alone.
 */
export async function maintainPartitions(repo: PartitionsRepository, now: number, monthsAhead: number, retentionDays: number): Promise<PartitionReport> {
  const parts = await repo.list();
  if (parts.length === 0) return { partitioned: false, added: [], dropped: [] };
  const named = parts.filter((p) => p.lessThan !== 'MAXVALUE');
  const added: string[] = [];
  const horizon = BigInt(firstIdAt(monthStart(now, monthsAhead + 1)));
  let bound = named.length > 0 ? BigInt(named.at(-1)!.lessThan) : BigInt(firstIdAt(monthStart(now)));
  while (bound < horizon) {
    const next = monthPartition(monthStart(idTimestamp(bound.toString())));
    await repo.addBefore(next);
    added.push(next.name);
    bound = BigInt(next.lessThan);
  }
  const dropped: string[] = [];
  if (retentionDays > 0) {
    const cutoff = BigInt(firstIdAt(now - retentionDays * 86_400_000));
    const current = BigInt(firstIdAt(monthStart(now)));
    let below = 0n;
    for (const p of named) {
      const upper = BigInt(p.lessThan);
      if (upper <= cutoff && upper <= current) {
        dropped.push(p.name);
        below = upper;
      }
    }
    await repo.drop(dropped, below.toString());
  }
  return { partitioned: true, added, dropped };
}
