import { createServer, Socket, type Server } from 'node:net';

export type ProxyFault =
  /** Forward the matching chunk, let the server run it, then cut the connection before any reply returns. */
  | 'reply-lost'
  /** Drop the matching chunk and cut the connection: the command never reaches the server. */
  | 'request-lost'
  /**
   * Hold the matching chunk and everything after it on that connection for `downMs`, then send it
   * on in order: a network that stalls; the command reaches the server late.
   */
  | 'request-stalled'
  /** Send the matching chunk on, but hold every reply on that connection for `downMs`: a server that stalls after running it. */
  | 'reply-stalled';

/**
 * A TCP proxy between a process and Redis that can lose a command or its reply on purpose: the
 * faults a client cannot tell apart from a network cut at the worst moment. A fault fires once,
 * on the first client-to-server chunk containing `match`; with `downMs`, the server then looks
 * down for that long (connections are closed at once), so a client's resend fails too.
 */
export class FaultyProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private fault: { match: string; kind: ProxyFault; downMs: number } | undefined;
  /** Until then, new connections are refused (closed at once): the server looks down. */
  private refuseUntil = 0;
  /** How many times a fault fired. */
  fired = 0;
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
    /** Every chunk, both ways, arrives this much later (order kept): a longer network path. */
    private readonly latencyMs = 0,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  arm(match: string, kind: ProxyFault, downMs = 0): void {
    this.fault = { match, kind, downMs };
  }

  disarm(): void {
    this.fault = undefined;
  }

  async start(): Promise<this> {
    this.server = createServer((client) => {
      if (Date.now() < this.refuseUntil) {
        client.destroy();
        return;
      }
      const upstream = new Socket();
      this.sockets.add(client).add(upstream);
      let cut = false;
      // While a stall lasts, what would have crossed in that direction waits here, in order.
      let heldUp: Buffer[] | undefined;
      let heldDown: Buffer[] | undefined;
      const stall = (dir: 'up' | 'down', ms: number, first?: Buffer) => {
        const held: Buffer[] = first ? [first] : [];
        if (dir === 'up') heldUp = held;
        else heldDown = held;
        setTimeout(() => {
          if (dir === 'up') heldUp = undefined;
          else heldDown = undefined;
          if (cut) return;
          for (const c of held) (dir === 'up' ? upstream : client).write(c);
        }, ms);
      };
      const cutBoth = () => {
        cut = true;
        client.destroy();
        upstream.destroy();
      };
      upstream.connect(this.targetPort, this.targetHost);
      const later = (write: (chunk: Buffer) => void) => (chunk: Buffer) => (this.latencyMs > 0 ? void setTimeout(() => !cut && write(chunk), this.latencyMs) : write(chunk));
      upstream.on(
        'data',
        later((chunk) => {
          if (cut) return;
          if (heldDown) heldDown.push(chunk);
          else client.write(chunk);
        }),
      );
      client.on('data', later((chunk) => {
        if (cut) return;
        if (heldUp) return void heldUp.push(chunk);
        const f = this.fault;
        if (f && chunk.includes(f.match)) {
          this.fired++;
          this.fault = undefined;
          if (f.kind === 'request-stalled') return stall('up', f.downMs, chunk);
          if (f.kind === 'reply-stalled') {
            stall('down', f.downMs);
            return void upstream.write(chunk);
          }
          this.refuseUntil = Date.now() + f.downMs;
          if (f.kind === 'request-lost') return cutBoth();
          cut = true;
          upstream.write(chunk);
          setTimeout(() => {
            client.destroy();
            upstream.destroy();
          }, 50);
          return;
        }
        upstream.write(chunk);
      }));
      const close = () => cutBoth();
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
