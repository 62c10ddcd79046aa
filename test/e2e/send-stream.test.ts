import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ERROR_REASONS } from '@im/errors';
import type { RowDataPacket } from 'mysql2/promise';
import { PROTO_FILE, PROTO_OPTIONS } from '../../apps/ingest-api/src/grpc/server';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN } from '../support/env';
import { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { waitFor } from '../support/wait';

/** message_service.stream_max_in_flight for this file: small, so that a burst meets it. */
const MAX_IN_FLIGHT = 16;
/** rate_limit.per_sender_per_s for this file. */
const RATE = 50;

interface Answer {
  correlation_id: string;
  result: { code: number; msg: string };
  error_code: string;
  message_id: string;
  timestamp: string;
  seq: string;
  retry_after_s: number;
  reason: string;
}

interface Frame {
  correlation_id: string;
  sender_id?: string;
  receiver_id?: string;
  group_id?: string;
  content?: string;
  message_type?: string;
  client_msg_id?: string;
}

/** A gateway's end of one SendStream: every answer as it came, and how the stream ended. */
class Link {
  readonly answers: Answer[] = [];
  /** Answer frames received (each carries one or more results). */
  frames = 0;
  readonly ended: Promise<grpc.StatusObject>;
  private readonly call: grpc.ClientDuplexStream<Frame, { results: Answer[] }>;

  constructor(client: grpc.Client, token = TEST_TOKEN) {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    this.call = (client as any).SendStream(metadata);
    this.call.on('data', (m: { results: Answer[] }) => {
      this.frames++;
      this.answers.push(...m.results);
    });
    this.ended = new Promise((resolve) => {
      this.call.on('status', resolve);
      this.call.on('error', () => {}); // the status says it
    });
  }

  send(f: Frame): void {
    this.call.write(f);
  }

  end(): void {
    this.call.end();
  }

  byId(): Map<string, Answer[]> {
    const m = new Map<string, Answer[]>();
    for (const a of this.answers) m.set(a.correlation_id, [...(m.get(a.correlation_id) ?? []), a]);
    return m;
  }

  async waitFor(n: number): Promise<void> {
    await waitFor(`${n} answers`, () => this.answers.length >= n, 20_000);
  }

  /** Sends frames keeping at most `window` unanswered, as a gateway that respects the bound does. */
  async sendPaced(frames: readonly Frame[], window: number): Promise<void> {
    const start = this.answers.length;
    for (let i = 0; i < frames.length; i++) {
      if (i - (this.answers.length - start) >= window) await waitFor('room in the window', () => i - (this.answers.length - start) < window, 20_000);
      this.send(frames[i]!);
    }
    await this.waitFor(start + frames.length);
  }
}

/** Each correlation id answered exactly once, and no answer for a frame never sent. */
function assertAnsweredOnce(link: Link, sent: readonly Frame[]): Map<string, Answer> {
  const byId = link.byId();
  const once = new Map<string, Answer>();
  for (const f of sent) {
    const got = byId.get(f.correlation_id) ?? [];
    assert.equal(got.length, 1, `frame ${f.correlation_id} answered ${got.length} times`);
    once.set(f.correlation_id, got[0]!);
  }
  assert.equal(link.answers.length, sent.length, 'answers for frames never sent');
  return once;
}

describe('gRPC SendStream: the gateway link', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let client: grpc.Client;
  let gateway: GatewaySimulator;
  const base = randomUserBase();
  const user = (n: number) => String(base + BigInt(n));
  // users 1..40 send, 101..140 receive, 200 is in no group, 201 sends too much, 300 is the group
  const senders = Array.from({ length: 40 }, (_, i) => user(i + 1));
  const receivers = Array.from({ length: 40 }, (_, i) => user(i + 101));
  const outsider = user(200);
  const group = user(300);
  const members = [senders[0]!, senders[1]!, receivers[0]!, receivers[1]!];

  /** History rows of these contents (each frame carries a unique one), by content. */
  async function stored(contents: readonly string[]): Promise<Map<string, { message_id: string; n: number }>> {
    if (contents.length === 0) return new Map();
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT content, MIN(message_id) AS message_id, COUNT(*) AS n FROM message_history WHERE content IN (?) GROUP BY content', [contents]);
    return new Map(rows.map((r) => [String(r.content), { message_id: String(r.message_id), n: Number(r.n) }]));
  }

  const connect = () => {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_FILE, PROTO_OPTIONS)) as any;
    client = new pkg.mpim.MessageStream(`127.0.0.1:${fleet.grpcPort}`, grpc.credentials.createInsecure());
  };

  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url, { IM_RATE_LIMIT_PER_SENDER_PER_S: String(RATE), IM_MESSAGE_SERVICE_STREAM_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT) }).startAll([
      'ingest-api',
      'worker-persist',
      'worker-fanout',
      'worker-delivery',
    ]);
    await Promise.all([...senders, ...receivers, outsider].map((u) => fleet.api.put(`/v1/users/${u}`, { name: `u${u.slice(-3)}` })));
    await fleet.api.put(`/v1/groups/${group}`, { name: 'stream group' });
    await fleet.api.post(`/v1/groups/${group}/members`, { add: members });
    gateway = new GatewaySimulator(fleet.api, 'gw-stream');
    await gateway.connect(receivers);
    connect();
  });

  after(async () => {
    client?.close();
    await gateway?.close();
    await fleet?.stop();
    await db?.drop();
  });

  it('answers every frame exactly once; each accepted send is in history once and published; bad frames get their error and change nothing', async () => {
    const tag = `s1-${Date.now()}`;
    const good: Frame[] = [];
    for (let i = 0; i < 160; i++) {
      good.push({ correlation_id: `g${i}`, sender_id: senders[i % 20]!, receiver_id: receivers[i % 20]!, content: `${tag} single ${i} 你好 👋`, client_msg_id: `${tag}-${i}` });
    }
    for (let i = 0; i < 4; i++) good.push({ correlation_id: `grp${i}`, sender_id: senders[i % 2]!, group_id: group, content: `${tag} group ${i}`, message_type: 'IMAGE' });
    const bad: [Frame, string, RegExp][] = [
      [{ correlation_id: 'b-zero-sender', sender_id: '0', receiver_id: receivers[0]!, content: `${tag} bad 1` }, 'INVALID_ARGUMENT', /sender_id/],
      [{ correlation_id: 'b-empty', sender_id: senders[0]!, receiver_id: receivers[0]!, content: '' }, 'INVALID_ARGUMENT', /content/],
      [{ correlation_id: 'b-long', sender_id: senders[0]!, receiver_id: receivers[0]!, content: `${tag} ${'x'.repeat(4096)}` }, 'INVALID_ARGUMENT', /content/],
      [{ correlation_id: 'b-cmid', sender_id: senders[0]!, receiver_id: receivers[0]!, content: `${tag} bad 4`, client_msg_id: 'bad id!' }, 'INVALID_ARGUMENT', /client_msg_id/],
      [{ correlation_id: 'b-both', sender_id: senders[0]!, receiver_id: receivers[0]!, group_id: group, content: `${tag} bad 5` }, 'INVALID_ARGUMENT', /not both/],
      [{ correlation_id: 'b-no-receiver', sender_id: senders[0]!, content: `${tag} bad 6` }, 'INVALID_ARGUMENT', /receiver_id/],
      [{ correlation_id: 'b-unknown', sender_id: senders[0]!, receiver_id: user(999), content: `${tag} bad 7` }, 'NOT_FOUND', /receiver_id/],
      [{ correlation_id: 'b-outsider', sender_id: outsider, group_id: group, content: `${tag} bad 8` }, 'PERMISSION_DENIED', /not a member/],
      [{ correlation_id: 'b-no-group', sender_id: senders[0]!, group_id: user(998), content: `${tag} bad 9` }, 'NOT_FOUND', /group_id/],
      [{ correlation_id: '', sender_id: senders[0]!, receiver_id: receivers[0]!, content: `${tag} bad 10` }, 'INVALID_ARGUMENT', /correlation_id/],
    ];
    // Bad frames spread among the good ones.
    const frames = [...good];
    bad.forEach(([f], i) => frames.splice(i * 15 + 3, 0, f));

    const link = new Link(client);
    await link.sendPaced(frames, MAX_IN_FLIGHT);
    link.end();
    const status = await link.ended;
    assert.equal(status.code, grpc.status.OK, 'a half-closed stream ends OK once every frame is answered');
    const answers = assertAnsweredOnce(link, frames);
    assert.ok(link.frames < frames.length, `answers are written in batches (${link.frames} answer frames for ${frames.length} results)`);

    for (const [f, code, message] of bad) {
      const a = answers.get(f.correlation_id)!;
      assert.equal(a.error_code, code, `${f.correlation_id}: ${a.result.msg}`);
      assert.ok((ERROR_REASONS[code as keyof typeof ERROR_REASONS] as readonly string[]).includes(a.reason), `${f.correlation_id}: reason "${a.reason}" is one of ${code}'s`);
      assert.equal(a.result.code, grpc.status[code as keyof typeof grpc.status]);
      assert.match(a.result.msg, message);
      assert.equal(a.message_id, '0');
    }
    for (const f of good) {
      const a = answers.get(f.correlation_id)!;
      assert.deepEqual(a.result, { code: 0, msg: 'OK' }, `${f.correlation_id}: ${a.error_code} ${a.result.msg}`);
      assert.match(a.message_id, /^\d+$/);
      assert.equal(a.reason, '', 'an accepted send names no reason');
      assert.ok(Number(a.seq) >= 1);
    }
    // Seqs of one conversation follow the order the frames were sent in.
    const seqsOf = (s: string) => good.filter((f) => f.sender_id === s && f.receiver_id === receivers[0]).map((f) => Number(answers.get(f.correlation_id)!.seq));
    assert.deepEqual(seqsOf(senders[0]!), [...seqsOf(senders[0]!)].sort((x, y) => x - y));

    const rows = await waitFor('every accepted send in history', async () => {
      const r = await stored(good.map((f) => f.content!));
      return r.size === good.length ? r : undefined;
    });
    for (const f of good) {
      const row = rows.get(f.content!)!;
      assert.equal(row.n, 1, `${f.correlation_id} stored ${row.n} times`);
      assert.equal(row.message_id, answers.get(f.correlation_id)!.message_id);
    }
    // Routed: each single send published to its receiver's channel, each group send to an online member.
    for (const f of good) {
      const id = answers.get(f.correlation_id)!.message_id;
      const to = f.receiver_id ?? receivers[0]!;
      await waitFor(`${f.correlation_id} published to user:${to}`, () => gateway.for(to).some((p) => p.message_id === id), 15_000);
    }
    // Bad frames changed nothing: none stored, none published.
    assert.equal((await stored(bad.map(([f]) => f.content!))).size, 0);
    assert.ok(!gateway.received.some((r) => bad.some(([f]) => r.payload.content === f.content)));
  });

  it('refuses frames beyond stream_max_in_flight with RESOURCE_EXHAUSTED (never dropped), and rate-limits like POST /v1/messages', async () => {
    const tag = `s2-${Date.now()}`;
    // A burst written at once: one send per sender (20 senders) per round, so the rate limit stays out of it.
    const frames: Frame[] = Array.from({ length: 120 }, (_, i) => ({
      correlation_id: `f${i}`,
      sender_id: senders[20 + (i % 20)]!,
      receiver_id: receivers[20 + (i % 20)]!,
      content: `${tag} burst ${i}`,
      client_msg_id: `${tag}-${i}`,
    }));
    const link = new Link(client);
    for (const f of frames) link.send(f);
    await link.waitFor(frames.length);
    const answers = assertAnsweredOnce(link, frames);
    const refused = frames.filter((f) => answers.get(f.correlation_id)!.error_code === 'RESOURCE_EXHAUSTED');
    const ok = frames.filter((f) => answers.get(f.correlation_id)!.result.code === 0);
    assert.ok(refused.length > 0, 'a burst beyond the bound gets refusals');
    assert.ok(ok.length >= MAX_IN_FLIGHT, `at least the bound is accepted (${ok.length})`);
    assert.equal(ok.length + refused.length, frames.length, 'every frame is either accepted or refused');
    for (const f of refused) {
      const a = answers.get(f.correlation_id)!;
      assert.equal(a.result.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(a.result.msg, /stream_max_in_flight is 16/);
      assert.equal(a.reason, 'STREAM_BACKLOG');
      assert.equal(a.retry_after_s, 1);
    }
    const rows = await waitFor('the accepted burst in history', async () => {
      const r = await stored(ok.map((f) => f.content!));
      return r.size === ok.length ? r : undefined;
    });
    for (const f of ok) assert.equal(rows.get(f.content!)!.n, 1);
    assert.equal((await stored(refused.map((f) => f.content!))).size, 0, 'a refused frame was not accepted');
    const metrics = await (await fetch(`${fleet.baseUrl}/metrics`)).text();
    const counted = Number(/^im_stream_refusals_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1]);
    assert.ok(counted >= refused.length, `im_stream_refusals_total counts refusals (${counted})`);

    // The sender's rate limit answers RESOURCE_EXHAUSTED with retry_after_s, as a 429 with Retry-After.
    const spammer = user(201);
    await fleet.api.put(`/v1/users/${spammer}`, { name: 'spam' });
    const limited = await waitFor('a rate-limited frame', async () => {
      const start = link.answers.length;
      const spam = Array.from({ length: RATE + 10 }, (_, i) => ({ correlation_id: `r${i}-${start}`, sender_id: spammer, receiver_id: receivers[0]!, content: `${tag} spam ${i}` }));
      await link.sendPaced(spam, MAX_IN_FLIGHT);
      return link.answers.slice(start).find((a) => a.error_code === 'RESOURCE_EXHAUSTED' && /rate limit/.test(a.result.msg));
    });
    assert.equal(limited.result.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(limited.retry_after_s, 1);
    link.end();
    assert.equal((await link.ended).code, grpc.status.OK);
  });

  it('ends a stream with a bad token with UNAUTHENTICATED, accepting nothing', async () => {
    const content = `s3-${Date.now()} unauthenticated`;
    for (const token of ['not-the-token-0000000', '']) {
      const link = new Link(client, token);
      link.send({ correlation_id: 'x', sender_id: senders[0]!, receiver_id: receivers[0]!, content });
      const status = await link.ended;
      assert.equal(status.code, grpc.status.UNAUTHENTICATED);
      assert.deepEqual(status.metadata.get('im-error-code'), ['UNAUTHENTICATED']);
      assert.equal(link.answers.length, 0);
    }
    assert.equal((await stored([content])).size, 0);
  });

  it('on SIGTERM answers every frame it received and ends the stream OK; after a reconnect a repeat answers the first outcome, each message stored once', async () => {
    const tag = `s4-${Date.now()}`;
    const frames: Frame[] = Array.from({ length: 400 }, (_, i) => ({
      correlation_id: `d${i}`,
      sender_id: senders[i % 40]!,
      receiver_id: receivers[i % 40]!,
      content: `${tag} ${i}`,
      client_msg_id: `${tag}-${i}`,
    }));
    const first = new Link(client);
    // A steady flow of frames; ingest gets SIGTERM while it runs.
    let sent = 0;
    let stopped = false;
    void first.ended.then(() => (stopped = true));
    const pump = setInterval(() => {
      for (let k = 0; k < 4 && sent < frames.length && !stopped; k++) if (sent - first.answers.length < MAX_IN_FLIGHT) first.send(frames[sent++]!);
    }, 5);
    await waitFor('a third of the frames answered', () => first.answers.length >= 100, 20_000);
    const exit = fleet.kill('ingest-api', 'SIGTERM');
    const status = await first.ended;
    clearInterval(pump);
    assert.equal(await exit, 0, 'ingest exits 0');
    assert.equal(status.code, grpc.status.OK, `the stream ends cleanly: ${grpc.status[status.code]} ${status.details}`);
    const byId = first.byId();
    for (const [id, got] of byId) assert.equal(got.length, 1, `${id} answered ${got.length} times`);
    const answeredOk = frames.filter((f) => byId.get(f.correlation_id)?.[0]?.result.code === 0);
    const unanswered = frames.filter((f) => !byId.has(f.correlation_id));
    assert.ok(answeredOk.length >= 100);
    // Every frame ingest accepted was answered: history holds exactly the answered ones.
    await waitFor('the answered sends in history', async () => (await stored(answeredOk.map((f) => f.content!))).size === answeredOk.length);
    assert.equal((await stored(unanswered.map((f) => f.content!))).size, 0, 'a frame without an answer was not accepted');

    // Reconnect: the gateway sends every frame again, with its client_msg_id.
    await fleet.start('ingest-api');
    client.close();
    connect();
    const second = new Link(client);
    await second.sendPaced(
      frames.map((f) => ({ ...f, sender_id: f.sender_id })),
      MAX_IN_FLIGHT,
    );
    second.end();
    assert.equal((await second.ended).code, grpc.status.OK);
    const again = assertAnsweredOnce(second, frames);
    for (const f of frames) {
      const a = again.get(f.correlation_id)!;
      assert.equal(a.result.code, 0, `${f.correlation_id}: ${a.error_code} ${a.result.msg}`);
      const before = byId.get(f.correlation_id)?.[0];
      if (before?.result.code === 0) assert.equal(a.message_id, before.message_id, `${f.correlation_id}: a repeat answers the first message_id`);
    }
    const rows = await waitFor('every frame in history', async () => {
      const r = await stored(frames.map((f) => f.content!));
      return r.size === frames.length ? r : undefined;
    });
    for (const f of frames) {
      assert.equal(rows.get(f.content!)!.n, 1, `${f.correlation_id} stored once`);
      assert.equal(rows.get(f.content!)!.message_id, again.get(f.correlation_id)!.message_id);
    }
  });
});
