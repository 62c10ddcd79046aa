import { createServer, Socket, type Server } from 'node:net';

/** Commands only a replica sends to its primary: one of them marks a replication connection. */
const REPLICATION_COMMANDS = new Set(['REPLCONF', 'PSYNC', 'SYNC']);
/** A replica's handshake names one of them among its first commands (PING, AUTH, REPLCONF...). */
const COMMANDS_INSPECTED = 8;
/** Past this many bytes without a replication command, the connection is a client's. */
const BYTES_INSPECTED = 64 * 1024;

/** One connection through the proxy. */
interface Link {
  client: Socket;
  upstream: Socket;
  /** Known once the connection's first commands were read; until then, a client. */
  kind: 'unknown' | 'client' | 'replication';
  /** The start of the client's stream, kept until its kind is known. */
  head: Buffer;
  /** Primary-to-replica bytes not forwarded yet (while held). */
  held: Buffer[];
}

/**
 * A TCP proxy in front of one Redis server that can make its replicas lag for real. It forwards
 * every connection both ways and recognises replication connections (the replica names REPLCONF,
 * PSYNC or SYNC in its first commands). `hold()` stops forwarding primary-to-replica bytes on
 * them and keeps the bytes in this process: the replica's offset stops (WAIT counts it no more)
 * while the primary goes on accepting writes. `release()` forwards what was held. When the
 * server dies, `down()` drops the held bytes: a replica promoted then lacks them, as a replica
 * that lagged behind a primary that died would.
 *
 * Holding in the proxy's memory matters: a replica that is only paused (SIGSTOP) still gets every
 * byte later from the kernel's socket buffers, where the stream waits whatever happens to the
 * primary.
 */
export class ReplicationProxy {
  private server: Server | undefined;
  private readonly links = new Set<Link>();
  private holdOn = false;
  /** False while the server is down: connections are reset as they come. */
  private serving = true;
  port = 0;

  constructor(
    /** The server's own port (it may change before the first start). */
    public targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  /** Whether primary-to-replica bytes are held now. */
  get holding(): boolean {
    return this.holdOn;
  }

  /** Bytes held and not forwarded, on every replication connection. */
  get heldBytes(): number {
    let n = 0;
    for (const l of this.links) for (const b of l.held) n += b.length;
    return n;
  }

  /** Replication connections open through the proxy now (replicas of the server behind it). */
  get replicationLinks(): number {
    let n = 0;
    for (const l of this.links) if (l.kind === 'replication') n++;
    return n;
  }

  /** Listens on a free port, kept until stop(): the address the cluster announces never changes. */
  async start(): Promise<this> {
    if (this.server) return this;
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this;
  }

  /** From now on, primary-to-replica bytes are kept here, on open and new replication connections. */
  hold(): void {
    this.holdOn = true;
  }

  /** Forwards what was held, in order, and forwards again as bytes come. */
  release(): void {
    this.holdOn = false;
    for (const l of this.links) {
      const held = l.held.splice(0);
      for (const chunk of held) if (!l.client.destroyed) l.client.write(chunk);
    }
  }

  /**
   * The server is gone: the held bytes are dropped and the hold ends, every connection is cut,
   * and new ones are reset at once until up(), as for a server whose process died. The port stays bound, so
   * nothing else can take it before the server is back. Call it once the server's process has
   * exited, not before: a replica cut while its primary lives would reconnect and get the held
   * bytes again from the primary's backlog.
   */
  down(): void {
    this.serving = false;
    this.holdOn = false;
    for (const l of this.links) {
      l.held.length = 0;
      l.client.destroy();
      l.upstream.destroy();
    }
    this.links.clear();
  }

  /** The server is back (or about to be): connections are forwarded again. */
  up(): void {
    this.serving = true;
  }

  /** Cuts everything and closes the port. */
  async stop(): Promise<void> {
    this.down();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (!this.serving) {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = new Socket();
    const link: Link = { client, upstream, kind: 'unknown', head: Buffer.alloc(0), held: [] };
    this.links.add(link);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const cut = () => {
      if (!this.links.delete(link)) return;
      link.held.length = 0;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    upstream.connect(this.targetPort, this.targetHost);

    client.on('data', (chunk: Buffer) => {
      if (link.kind === 'unknown') this.classify(link, chunk);
      forward(client, upstream, chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.holdOn && link.kind === 'replication') link.held.push(chunk);
      else forward(upstream, client, chunk);
    });
  }

  /** Reads the names of the connection's first commands (RESP arrays) to tell a replica from a client. */
  private classify(link: Link, chunk: Buffer): void {
    link.head = Buffer.concat([link.head, chunk]);
    const { names, inline } = firstCommands(link.head, COMMANDS_INSPECTED);
    if (names.some((n) => REPLICATION_COMMANDS.has(n))) link.kind = 'replication';
    else if (inline || names.length >= COMMANDS_INSPECTED || link.head.length > BYTES_INSPECTED) link.kind = 'client';
    if (link.kind !== 'unknown') link.head = Buffer.alloc(0);
  }
}

/** Writes with back-pressure: the source pauses while the destination's buffer is full. */
function forward(from: Socket, to: Socket, chunk: Buffer): void {
  if (to.destroyed) return;
  if (!to.write(chunk)) {
    from.pause();
    to.once('drain', () => from.resume());
  }
}

/**
 * The upper-cased names of the complete commands at the start of a RESP stream, at most `max`.
 * `inline` when the stream holds an inline command (not a RESP array): no replica sends those.
 */
function firstCommands(buf: Buffer, max: number): { names: string[]; inline: boolean } {
  const names: string[] = [];
  let at = 0;
  const line = (): string | undefined => {
    const end = buf.indexOf('\r\n', at);
    if (end < 0) return undefined;
    const s = buf.toString('latin1', at, end);
    at = end + 2;
    return s;
  };
  while (names.length < max && at < buf.length) {
    if (buf[at] !== 0x2a /* '*' */) return { names, inline: true };
    const count = line();
    if (count === undefined) break;
    const n = Number(count.slice(1));
    let name: string | undefined;
    for (let i = 0; i < n; i++) {
      const len = line();
      if (len === undefined || len[0] !== '$') return { names, inline: false };
      const size = Number(len.slice(1));
      if (at + size + 2 > buf.length) return { names, inline: false };
      if (i === 0) name = buf.toString('latin1', at, at + size).toUpperCase();
      at += size + 2;
    }
    if (name !== undefined) names.push(name);
  }
  return { names, inline: false };
}
