import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ID_EPOCH_MS, ID_NODE_BITS as NODE_BITS, ID_SEQ_BITS as SEQ_BITS, MAX_NODE } from '@im/contracts';
import { keys } from './keys';

const MAX_SEQ = (1 << SEQ_BITS) - 1;

/**
 * Snowflake-style ids: milliseconds since ID_EPOCH_MS, node, sequence. Time-ordered and unique
 * as long as no two live generators share a node number. If the clock steps back, the generator
 * keeps the last millisecond and goes on counting, so ids never decrease.
 */
export class MessageIdGenerator {
  private lastMs = 0;
  private seq = 0;

  constructor(
    private node: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(node) || node < 0 || node > MAX_NODE) throw new Error(`node must be 0..${MAX_NODE}`);
  }

  /** Switches node; the next id moves to a later millisecond, so ids never decrease across the switch. */
  setNode(node: number): void {
    if (!Number.isInteger(node) || node < 0 || node > MAX_NODE) throw new Error(`node must be 0..${MAX_NODE}`);
    if (node === this.node) return;
    this.node = node;
    if (this.lastMs > 0) {
      this.lastMs += 1;
      this.seq = -1;
    }
  }

  /** Returns the id and the millisecond it encodes (used as the message timestamp). */
  next(): { id: string; ms: number } {
    let ms = Math.max(this.now(), this.lastMs);
    if (ms === this.lastMs) {
      this.seq++;
      if (this.seq > MAX_SEQ) {
        ms = this.lastMs + 1;
        this.seq = 0;
      }
    } else {
      this.seq = 0;
    }
    this.lastMs = ms;
    const id = (BigInt(ms - ID_EPOCH_MS) << BigInt(NODE_BITS + SEQ_BITS)) | BigInt((this.node << SEQ_BITS) | this.seq);
    return { id: id.toString(), ms };
  }
}

const LEASE_S = 60;
const REFRESH_MS = 15_000;

const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/**
 * A node number leased in Redis, so that ingest processes never share one. The lease is renewed
 * every 15 s; if it cannot be renewed for its whole 60 s life, `assertValid` throws and ingest stops
 * issuing ids (answering 503) until a lease is held again. When the connection drops, no id is
 * issued until the lease is checked again on the new connection: the Redis that answers may have
 * lost the lease (a restart from an older AOF, a failover), and another process may take the
 * number; the check then leases another one.
 */
export class NodeLease {
  private readonly owner = randomUUID();
  private node = -1;
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  /** Renewal found the node taken by another process and no other could be leased (Redis answering). */
  private lost = false;
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly onChange: (node: number) => void,
  ) {
    redis.on('close', () => {
      if (this.node >= 0) this.validUntil = 0;
    });
    redis.on('ready', () => {
      if (this.node < 0 || this.released) return;
      clearTimeout(this.timer);
      void this.renew();
    });
  }

  get current(): number {
    return this.node;
  }

  async acquire(): Promise<number> {
    for (let i = 0; i <= MAX_NODE; i++) {
      const candidate = (await this.redis.incr(keys.idNodeNext)) % (MAX_NODE + 1);
      const ok = await this.redis.set(keys.idNode(candidate), this.owner, 'EX', LEASE_S, 'NX');
      if (ok === 'OK') {
        this.node = candidate;
        this.validUntil = Date.now() + (LEASE_S - 5) * 1000;
        this.onChange(candidate);
        this.schedule();
        return candidate;
      }
    }
    throw new Error(`all ${MAX_NODE + 1} message-id node numbers are leased`);
  }

  /**
   * This process holds a node: leased, not released, and not lost to another process. A lease
   * that could not be renewed because Redis is unreachable is still held (no other process can
   * take it then either); sends are refused with 503 while it is not valid (assertValid).
   */
  get held(): boolean {
    return this.node >= 0 && !this.released && !this.lost;
  }

  assertValid(): void {
    if (Date.now() > this.validUntil) throw new Error('message-id node lease expired (Redis unreachable for too long)');
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.renew(), REFRESH_MS);
    this.timer.unref();
  }

  private renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    if (this.released) return;
    try {
      const kept = await this.redis.eval(RENEW_SCRIPT, 1, keys.idNode(this.node), this.owner, LEASE_S);
      if (Number(kept) === 1) {
        this.validUntil = Date.now() + (LEASE_S - 5) * 1000;
        this.schedule();
      } else {
        this.lost = true;
        await this.acquire();
        this.lost = false;
      }
    } catch {
      this.schedule();
    }
  }

  async release(): Promise<void> {
    this.released = true;
    clearTimeout(this.timer);
    this.validUntil = 0;
    if (this.node >= 0) {
      await this.redis
        .eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, keys.idNode(this.node), this.owner)
        .catch(() => {});
    }
  }
}
