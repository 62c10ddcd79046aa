import { ROLES as CONTRACT_ROLES } from '@im/contracts';
import assert from 'node:assert/strict';
import { setTimeout as pace } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { RowDataPacket } from 'mysql2/promise';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, TEST_TOKEN, testServers, uniqueName } from '../support/env';
import { Fleet, type FleetRole } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { waitFor } from '../support/wait';

/**
 * CONTRACT.md section 5: on SIGTERM a process stops taking work, finishes or returns what it holds,
 * and exits 0 within 30 s. One fleet of all five roles under a steady load of single and group
 * sends; each role in turn gets SIGTERM mid-load and is started again. After each, every message
 * answered 2xx is in message_history exactly once and the pipeline's queues drain to nothing.
 */

const ROLES: readonly FleetRole[] = CONTRACT_ROLES;
const PIPELINE_QUEUES = ['im.persist', 'im.fanout', 'im.deliver'] as const;
const GROUP_SIZE = 200;
const LOOPS = 3;
const SINGLES_PER_BATCH = 10;
/** Pause between a loop's requests: it shapes the load (some 80 requests/s), it waits for nothing. */
const LOAD_PACE_MS = 25;
const SHUTDOWN_LIMIT_MS = 30_000;

interface Answer {
  status: number;
  body: string;
  requestId: string | null;
}

/** Sends through the API in a loop; counts what was accepted (2xx), refused, or left without an answer. */
class Load {
  readonly accepted = new Set<string>();
  /** Non-2xx answers (only 503 is expected, and only while ingest-api stops). */
  readonly refused: Answer[] = [];
  /** Requests that never reached the server (connection refused): nothing queued. */
  notSent = 0;
  /** Items of requests whose connection broke before an answer: they may or may not be queued. */
  unknownItems = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private n = 0;

  constructor(
    private readonly baseUrl: () => string,
    private readonly users: readonly string[],
    private readonly group: string,
    private readonly tag: string,
  ) {}

  private next(): number {
    return this.n++;
  }

  private async post(path: string, body: unknown, items: number): Promise<any> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl() + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if (code === 'ECONNREFUSED') this.notSent++;
      else this.unknownItems += items;
      return undefined;
    }
    let text: string;
    try {
      text = await res.text();
    } catch {
      this.unknownItems += items;
      return undefined;
    }
    if (res.status >= 200 && res.status < 300) return JSON.parse(text);
    this.refused.push({ status: res.status, body: text, requestId: res.headers.get('x-request-id') });
    return undefined;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const k = this.next();
      const single = (i: number) => {
        const from = this.users[(k * 7 + i) % this.users.length]!;
        const to = this.users[(k * 13 + i * 3 + 1) % this.users.length]!;
        return { sender_id: from, receiver_id: to === from ? this.users[(k + i + 1) % this.users.length]! : to, content: `${this.tag} s ${k}.${i}`, client_msg_id: `${this.tag}-${k}-${i}` };
      };
      const groupSend = (i: number) => ({ sender_id: this.users[(k + i) % this.users.length]!, group_id: this.group, content: `${this.tag} g ${k}.${i} 🚀` });
      if (k % 4 === 3) {
        // Now and then the single-message routes instead of a batch.
        const one = await this.post('/v1/messages', single(0), 1);
        if (one) this.accepted.add(one.message_id);
        const g = await this.post('/v1/group-messages', groupSend(1), 1);
        if (g) this.accepted.add(g.message_id);
      } else {
        const messages = [...Array.from({ length: SINGLES_PER_BATCH }, (_, i) => single(i)), groupSend(SINGLES_PER_BATCH)];
        const r = await this.post('/v1/messages/batch', { messages }, messages.length);
        if (r) {
          (r.results as { message_id?: string; error?: { code: string; message: string } }[]).forEach((res, i) => {
            if (res.message_id) this.accepted.add(res.message_id);
            else this.refused.push({ status: 200, body: `item ${i}: ${JSON.stringify(res.error)}`, requestId: null });
          });
        }
      }
      await pace(LOAD_PACE_MS);
    }
  }

  start(): void {
    assert.ok(!this.running);
    this.running = true;
    this.loops = Array.from({ length: LOOPS }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

describe('graceful shutdown: each role exits 0 within 30 s on SIGTERM mid-load and loses nothing', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let gateway: GatewaySimulator;
  let load: Load;
  const queues = new Map<string, Queue>();
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const members = Array.from({ length: GROUP_SIZE }, (_, i) => id(i + 1));
  const online = members.filter((_, i) => i % 4 === 0);
  const group = id(10_000);

  const historyRows = async (ids: readonly string[]) => {
    let n = 0;
    for (let i = 0; i < ids.length; i += 5000) {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history WHERE message_id IN (?)', [ids.slice(i, i + 5000)]);
      n += Number(rows[0]!.n);
    }
    return n;
  };

  const pipelineCounts = async () => {
    const out: Record<string, Record<string, number>> = {};
    for (const name of PIPELINE_QUEUES) {
      const c = await queues.get(name)!.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children');
      out[name] = { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
    }
    return out;
  };

  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url, { IM_CLEANER_INTERVAL_S: '1' }).startAll(ROLES);
    for (let i = 0; i < members.length; i += 25) {
      const statuses = await Promise.all(members.slice(i, i + 25).map((u) => fleet.api.put(`/v1/users/${u}`, { name: `member ${u.slice(-3)}` })));
      for (const s of statuses) assert.equal(s.status, 204);
    }
    assert.equal((await fleet.api.put(`/v1/groups/${group}`, { name: 'shutdown drill' })).status, 204);
    const added = await fleet.api.post(`/v1/groups/${group}/members`, { add: members });
    assert.deepEqual(added.body, { member_count: GROUP_SIZE });
    gateway = new GatewaySimulator(fleet.api, 'gw-shutdown');
    await gateway.connect(online, 600);
    for (const name of PIPELINE_QUEUES) queues.set(name, new Queue(name, { connection: { url: testServers().redisUrl } as never, prefix: fleet.prefix }));
    load = new Load(() => fleet.baseUrl, members, group, uniqueName('gs'));
  });

  after(async () => {
    await load?.stop();
    for (const q of queues.values()) await q.close();
    await gateway?.close();
    await fleet?.stop();
    await db?.drop();
  });

  for (const role of ROLES) {
    it(`${role}: SIGTERM mid-load exits 0 within 30 s; after a restart every accepted message is in history once and the queues drain`, async (t) => {
      const before = load.accepted.size;
      const refusedBefore = load.refused.length;
      load.start();
      try {
        await waitFor(`load flowing before ${role} stops`, () => load.accepted.size >= before + 300, 30_000);

        const started = Date.now();
        let exit: { code: number | null } | undefined;
        void fleet.kill(role, 'SIGTERM').then((code) => (exit = { code }));
        try {
          await waitFor(`${role} to exit after SIGTERM`, () => exit, SHUTDOWN_LIMIT_MS + 5000);
        } catch (err) {
          await fleet.kill(role, 'SIGKILL');
          throw err;
        }
        const elapsed = Date.now() - started;
        t.diagnostic(`${role} exited with ${exit!.code} after ${elapsed} ms`);
        assert.equal(exit!.code, 0, `${role} exit code; last log lines:\n${fleet.logs(role).split('\n').slice(-15).join('\n')}`);
        assert.ok(elapsed < SHUTDOWN_LIMIT_MS, `${role} took ${elapsed} ms to exit`);

        await fleet.start(role);
        const restarted = load.accepted.size;
        await waitFor(`load flowing after ${role} restarted`, () => load.accepted.size >= restarted + 200, 30_000);
      } finally {
        await load.stop();
      }

      const refusedNow = load.refused.slice(refusedBefore);
      if (role === 'ingest-api') {
        // While ingest-api stops, a send may be refused with 503: nothing was queued for it.
        for (const r of refusedNow) assert.equal(r.status, 503, `only 503 while ingest-api stops: ${r.status} ${r.body}`);
      } else {
        assert.deepEqual(refusedNow, [], `no send refused while ${role} stops`);
      }
      const accepted = [...load.accepted];
      t.diagnostic(`${accepted.length} accepted so far, ${load.refused.length} refused, ${load.notSent} not sent, ${load.unknownItems} without an answer`);

      await waitFor(
        `all ${accepted.length} accepted messages in message_history`,
        async () => (await historyRows(accepted)) === accepted.length,
        60_000,
      );
      const counts = await waitFor(
        'im.persist, im.fanout and im.deliver with nothing waiting, active or delayed',
        async () => {
          const c = await pipelineCounts();
          return Object.values(c).every((q) => q.waiting === 0 && q.active === 0 && q.delayed === 0) ? c : undefined;
        },
        60_000,
      );
      for (const [name, c] of Object.entries(counts)) assert.equal(c.failed, 0, `no failed job in ${name}`);

      const [total] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history');
      const rows = Number(total[0]!.n);
      assert.ok(rows >= accepted.length, 'history holds every accepted message');
      assert.ok(rows <= accepted.length + load.unknownItems, `history holds ${rows} rows for ${accepted.length} accepted sends and ${load.unknownItems} without an answer: a refused send was stored`);
      const [dups] = await db.pool.query<RowDataPacket[]>('SELECT content, COUNT(*) AS n FROM message_history GROUP BY content HAVING COUNT(*) > 1 LIMIT 5');
      assert.deepEqual(
        dups.map((d) => `${d.content} x${d.n}`),
        [],
        'each send is stored once (every send has its own content)',
      );
    });
  }

  it('answered every 503 during the ingest-api shutdown in the contract error shape',
    async (t) => {
      const unavailable = load.refused.filter((r) => r.status === 503);
      t.diagnostic(`${unavailable.length} answers with 503 while ingest-api stopped`);
      for (const r of unavailable) {
        const body = JSON.parse(r.body);
        assert.deepEqual(Object.keys(body), ['error'], r.body);
        assert.equal(body.error.code, 'UNAVAILABLE', r.body);
        assert.ok(r.requestId, 'x-request-id header');
      }
    },
  );
});
