import { activeContext, inRound, type Context } from '@im/telemetry';

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
  /** With tracing on: the caller's context, which the flush's span links to. */
  ctx: Context | undefined;
}

export interface MicroBatcherOptions {
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
    private readonly options: MicroBatcherOptions,
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
      const batch = this.pending.splice(0, this.options.maxItems);
      this.active++;
      void this.run(batch);
    }
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
