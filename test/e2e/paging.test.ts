import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import type { ApiResponse } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import { Fleet } from '../support/fleet';
import { waitFor } from '../support/wait';

/**
 * Every list that can grow is walked to its end by cursor: conversations (past the 200 a page
 * holds), search and group members. Each walk must give every item once, in the list's order, and
 * a cursor the list did not issue is refused and changes nothing.
 */
describe('cursors: conversations, search and group members walked past the first page', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const me = id(1);
  const other = id(2);
  const PEERS = 185;
  const GROUPS = 30;
  const MEMBERS = 250;
  const peers = Array.from({ length: PEERS }, (_, i) => id(1000 + i));
  const groups = Array.from({ length: GROUPS }, (_, i) => id(5000 + i));
  const bigGroup = id(9000);
  /** message_id and created_at of every message holding the keyword, as sent. */
  const needles: { message_id: string; timestamp: number }[] = [];

  /** Walks a list to its end; every page checked against docs/openapi.yaml by the client. */
  async function walk<T>(path: string, items: (body: any) => T[], maxPages = 200): Promise<{ items: T[]; pages: number }> {
    const seen: T[] = [];
    let cursor: string | null = null;
    for (let pages = 1; pages <= maxPages; pages++) {
      const sep = path.includes('?') ? '&' : '?';
      const r: ApiResponse = await fleet.api.get(cursor === null ? path : `${path}${sep}cursor=${encodeURIComponent(cursor)}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      seen.push(...items(r.body));
      assert.equal(r.body.has_more, r.body.next_cursor !== null, 'has_more and next_cursor agree');
      if (!r.body.has_more) return { items: seen, pages };
      cursor = r.body.next_cursor;
    }
    throw new Error(`${path}: no last page after ${maxPages} pages`);
  }

  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url).startAll(['ingest-api', 'worker-persist']);
    for (const u of [me, other, ...peers]) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: `u${u.slice(-4)}` })).status, 204);
    for (const g of groups) {
      assert.equal((await fleet.api.put(`/v1/groups/${g}`, { name: `g${g.slice(-4)}` })).status, 204);
      assert.equal((await fleet.api.post(`/v1/groups/${g}/members`, { add: [me, other] })).status, 200);
    }
    // One message from each peer to me (several in one millisecond: ties in the list's order), and
    // one from me to each group; every third holds the keyword.
    const sends = [
      ...peers.map((p, i) => ({ sender_id: p, receiver_id: me, content: i % 3 === 0 ? `a Needle ${i}` : `hay ${i}` })),
      ...groups.map((g, i) => ({ sender_id: me, group_id: g, content: i % 3 === 0 ? `group needle ${i}` : `group hay ${i}` })),
    ];
    for (let i = 0; i < sends.length; i += 50) {
      const r = await fleet.api.post('/v1/messages/batch', { messages: sends.slice(i, i + 50) });
      assert.equal(r.status, 200);
      r.body.results.forEach((res: any, k: number) => {
        assert.ok(res.message_id, JSON.stringify(res));
        if (/needle/i.test(sends[i + k]!.content)) needles.push(res);
      });
    }
    await waitFor(
      'every message in history',
      async () => {
        const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM message_history');
        return Number(rows[0]!.n) >= sends.length;
      },
      60_000,
    );
    await fleet.api.put(`/v1/groups/${bigGroup}`, { name: 'big' });
    const members = [me, other, ...peers, ...Array.from({ length: MEMBERS - PEERS - 2 }, (_, i) => id(20_000 + i))];
    for (const u of members.slice(PEERS + 2)) await fleet.api.put(`/v1/users/${u}`, { name: 'm' });
    assert.deepEqual((await fleet.api.post(`/v1/groups/${bigGroup}/members`, { add: members })).body, { member_count: MEMBERS });
  });

  after(async () => {
    await fleet?.stop();
    await db?.drop();
  });

  it(`walks ${PEERS + GROUPS} conversations (more than the 200 a page may hold) in order, each once`, async () => {
    const { items, pages } = await walk(`/v1/users/${me}/conversations?limit=16`, (b) => b.conversations);
    assert.equal(pages, Math.ceil((PEERS + GROUPS) / 16));
    const keys = items.map((c: any) => (c.group_id ? `g:${c.group_id}` : `s:${[me, c.peer_id].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)).join(':')}`));
    assert.equal(new Set(keys).size, keys.length, 'no conversation twice');
    assert.deepEqual(new Set(keys), new Set([...peers.map((p) => `s:${me}:${p}`), ...groups.map((g) => `g:${g}`)]), 'every conversation');
    // Newest first, ties by conversation key (descending).
    const order = items.map((c: any, i: number) => [c.last_message.created_at as number, keys[i]!] as const);
    const sorted = [...order].sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0));
    assert.deepEqual(order, sorted, 'in the list order');
    assert.ok(new Set(order.map((o) => o[0])).size < order.length, 'some conversations share a millisecond: the tie-break was walked');
    // The first page without cursor or limit: as before, plus the new fields.
    const first = await fleet.api.get(`/v1/users/${me}/conversations`);
    assert.equal(first.body.conversations.length, 50);
    assert.equal(first.body.has_more, true);
    assert.deepEqual(first.body.conversations, items.slice(0, 50));
  });

  it('walks the search matches newest first, each once, for the query the cursor came from', async () => {
    const { items, pages } = await walk(`/v1/users/${me}/search?keyword=needle&limit=7`, (b) => b.messages);
    assert.ok(pages > 5, `${pages} pages`);
    assert.equal(items.length, needles.length);
    assert.deepEqual(new Set(items.map((m: any) => m.message_id)), new Set(needles.map((n) => n.message_id)));
    const order = items.map((m: any) => [m.created_at as number, BigInt(m.message_id)] as const);
    const sorted = [...order].sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0));
    assert.deepEqual(order, sorted);
    // The other member of the groups sees only the group matches.
    const theirs = await walk(`/v1/users/${other}/search?keyword=needle&limit=3`, (b) => b.messages);
    assert.equal(theirs.items.length, GROUPS / 3);
  });

  it(`walks ${MEMBERS} group members by user id, each once`, async () => {
    const { items, pages } = await walk<string>(`/v1/groups/${bigGroup}/members?limit=40`, (b) => b.members);
    assert.equal(pages, Math.ceil(MEMBERS / 40));
    const sorted = [...items].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    assert.deepEqual(items, sorted);
    assert.equal(new Set(items).size, MEMBERS);
    // Without limit: one page of up to 1000, as the list came before.
    const all = await fleet.api.get(`/v1/groups/${bigGroup}/members`);
    assert.deepEqual(all.body, { members: items, has_more: false, next_cursor: null });
  });

  it('refuses a malformed or foreign cursor with 400 INVALID_CURSOR, and the walk goes on as before', async () => {
    const page1 = await fleet.api.get(`/v1/users/${me}/conversations?limit=5`);
    const cursor = page1.body.next_cursor as string;
    const page2 = await fleet.api.get(`/v1/users/${me}/conversations?limit=5&cursor=${cursor}`);
    const members = await fleet.api.get(`/v1/groups/${bigGroup}/members?limit=5`);
    const search = await fleet.api.get(`/v1/users/${me}/search?keyword=needle&limit=2`);
    const refusals = [
      `/v1/users/${me}/conversations?cursor=not-a-cursor`,
      `/v1/users/${me}/conversations?cursor=${encodeURIComponent('+/=')}`,
      `/v1/users/${me}/conversations?cursor=${members.body.next_cursor}`,
      `/v1/users/${other}/conversations?cursor=${cursor}`,
      `/v1/users/${me}/search?keyword=needle&cursor=${cursor}`,
      `/v1/users/${me}/search?keyword=hay&cursor=${search.body.next_cursor}`,
      `/v1/users/${other}/search?keyword=needle&cursor=${search.body.next_cursor}`,
      `/v1/groups/${groups[0]}/members?cursor=${members.body.next_cursor}`,
      `/v1/groups/${bigGroup}/members?cursor=${cursor}`,
      `/v1/groups/${bigGroup}/members?cursor=a&cursor=b`,
    ];
    for (const path of refusals) {
      const r = await fleet.api.get(path);
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'INVALID_ARGUMENT');
      assert.equal(r.body.error.reason, path.endsWith('cursor=b') ? 'INVALID_FIELD' : 'INVALID_CURSOR', path);
      assert.match(r.body.error.message, /cursor/);
    }
    assert.deepEqual((await fleet.api.get(`/v1/users/${me}/conversations?limit=5&cursor=${cursor}`)).body, page2.body, 'the same page as before');
  });
});
