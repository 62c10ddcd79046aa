/**
 * Puts jobs back in admission order (queue.ordered). Ingest numbers each admitted batch of a shard
 * with a ticket, in the same step as its seqs (apps/ingest-api/src/send/admission.ts), but the
 * jobs of several ingest processes reach the queue in the order their adds arrive, not in the
 * order they were admitted. The shard's one consumer holds jobs that came early and hands them on
 * in ticket order, so each conversation is handed on, and published, in seq order.
 *
 * A ticket may never come: its send was refused or taken back (ingest voids the ticket, and it is
 * skipped at once), or its ingest process died between admission and enqueue (it is skipped once
 * it has been missing for `gapWaitMs`, which outlasts a send's time bound). A job that comes after
 * its ticket was passed (a retried job, one that came later than the wait) is handed on at once:
 * the only ways out of order.
 */
export class TicketSequencer<T> {
  private waiting: { item: T; ticket: number }[] = [];
  private next: number | undefined;
  private gapSince: number | undefined;

  constructor(
    private readonly gapWaitMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Where to go on from: the ticket after the last one handed on, or undefined for the lowest that comes. */
  resume(next: number | undefined): void {
    this.next = next;
    this.gapSince = undefined;
  }

  /** Jobs as fetched; returns those that run at once (no ticket: not ordered, or from an older release). */
  add(items: readonly { item: T; ticket: number | undefined }[]): T[] {
    const now: T[] = [];
    for (const i of items) {
      if (i.ticket === undefined) now.push(i.item);
      else this.waiting.push({ item: i.item, ticket: i.ticket });
    }
    this.waiting.sort((a, b) => a.ticket - b.ticket);
    return now;
  }

  /** Jobs held for a ticket that has not come yet. */
  get held(): readonly T[] {
    return this.waiting.map((w) => w.item);
  }

  /** Gives up every held job (the consumer lost its lease: they go back to the queue). */
  release(): T[] {
    const all = this.waiting.map((w) => w.item);
    this.waiting = [];
    this.next = undefined;
    this.gapSince = undefined;
    return all;
  }

  /**
   * The jobs whose turn it is, in ticket order, and the last ticket handed on. `isVoid` is asked
   * about a missing ticket only.
   */
  async take(isVoid: (ticket: number) => Promise<boolean>): Promise<{ ready: T[]; last: number | undefined; skipped: number; late: number[] }> {
    const ready: T[] = [];
    const late: number[] = [];
    let skipped = 0;
    if (this.next === undefined && this.waiting.length > 0) this.next = this.waiting[0]!.ticket;
    while (this.waiting.length > 0 && this.next !== undefined) {
      const head = this.waiting[0]!;
      if (head.ticket < this.next) {
        // Came after its turn was passed: at once.
        late.push(head.ticket);
        ready.push(this.waiting.shift()!.item);
        continue;
      }
      if (head.ticket === this.next) {
        ready.push(this.waiting.shift()!.item);
        this.next++;
        this.gapSince = undefined;
        continue;
      }
      if (await isVoid(this.next)) {
        this.next++;
        skipped++;
        continue;
      }
      this.gapSince ??= this.now();
      if (this.now() - this.gapSince < this.gapWaitMs) break;
      skipped += head.ticket - this.next;
      this.next = head.ticket;
      this.gapSince = undefined;
    }
    if (this.waiting.length === 0) this.gapSince = undefined;
    return { ready, last: this.next === undefined ? undefined : this.next - 1, skipped, late };
  }
}
