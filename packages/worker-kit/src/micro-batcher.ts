import { activeContext, inRound, type Context } from '@im/telemetry';

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
  /** With tracing on: the caller's context, which the flush's span links to. */
  ctx: Context | undefined;
}

export interface MicroBatcherOptions<T = unknown, R = unknown> {
  /** Largest batch handed to flush. */
  maxItems: number;
  /** How long the first item of a batch waits for company. */
  maxWaitMs: number;
  /** Flushes running at once; while all are busy, items gather into the next, larger batch. */
  maxInFlight?: number;
  /**
   * With tracing on, each flush is a span of this name, the root of a trace of its own linked to
   * every caller's span (their work rides in one statement or one job); the flush runs in it, so
   * the calls it makes hang under it instead of under whichever caller armed the timer.
   */
  spanName?: string;
  /**
   * An item whose caller no longer waits for it (answered already, at a time bound): given its
   * result here when a batch is cut, it takes no place in the batch, so a backlog of dead items
   * cannot crowd the live ones out of every batch under overload.
   */
  settledWithout?: (item: T) => R | undefined;
}

/**
 * Collects items from many concurrent callers and hands them to `flush` as one batch, when the
 * batch is full or the first item has waited maxWaitMs. Each caller gets its own item's result,
 * or the batch's error. This is how a message rides with others through one job or one INSERT.
 */
export class MicroBatcher<T, R> {
  private pending: Pending<T, R>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private active = 0;
  private readonly maxInFlight: number;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly options: MicroBatcherOptions<T, R>,
  ) {
    this.maxInFlight = options.maxInFlight ?? 4;
    if (!(options.maxItems >= 1) || !(this.maxInFlight >= 1) || !(options.maxWaitMs >= 0)) {
      throw new Error('MicroBatcher needs maxItems >= 1, maxInFlight >= 1 and maxWaitMs >= 0');
    }
  }

  /** Items waiting for a flush (not those being flushed). */
  get size(): number {
    return this.pending.length;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject, ctx: activeContext() });
      this.schedule();
    });
  }

  addMany(items: readonly T[]): Promise<R[]> {
    return Promise.all(items.map((i) => this.add(i)));
  }

  /** Resolves once nothing is pending or being flushed. */
  async drain(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.kick();
    if (this.pending.length === 0 && this.active === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.pending.length >= this.options.maxItems) {
      this.kick();
    } else if (!this.timer && this.active < this.maxInFlight) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, this.options.maxWaitMs);
    }
  }

  private kick(): void {
    while (this.pending.length > 0 && this.active < this.maxInFlight) {
      const batch = this.cut();
      if (batch.length === 0) continue;
      this.active++;
      void this.run(batch);
    }
    if (this.pending.length === 0 && this.active === 0) this.idleWaiters.splice(0).forEach((w) => w());
  }

  /** The next batch: up to maxItems items from the front, those settled without a batch resolved and left out. */
  private cut(): Pending<T, R>[] {
    const settle = this.options.settledWithout;
    if (!settle) return this.pending.splice(0, this.options.maxItems);
    const batch: Pending<T, R>[] = [];
    let taken = 0;
    while (taken < this.pending.length && batch.length < this.options.maxItems) {
      const p = this.pending[taken++]!;
      const result = settle(p.item);
      if (result === undefined) batch.push(p);
      else p.resolve(result);
    }
    this.pending.splice(0, taken);
    return batch;
  }

  private async run(batch: Pending<T, R>[]): Promise<void> {
    try {
      const results = await inRound(this.options.spanName ?? 'micro-batch', batch.map((p) => p.ctx), () => this.flush(batch.map((p) => p.item)));
      if (results.length !== batch.length) throw new Error(`flush returned ${results.length} results for ${batch.length} items`);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.active--;
      if (this.pending.length > 0) this.kick();
      else if (this.active === 0) this.idleWaiters.splice(0).forEach((w) => w());
    }
  }
}
