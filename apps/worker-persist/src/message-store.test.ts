import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conversationOf, type AcceptedMessage } from '@im/contracts';
import type { ConversationState } from '@im/db';
import { createMetrics } from '@im/metrics';
import { silentLog } from '@im/worker-kit/testing';
import { messageStore, type MessageStoreDeps } from './message-store';

const message = (id: number, seq: number): AcceptedMessage => ({
  message_id: String(1000 + id),
  seq,
  sender_id: '1',
  receiver_id: '2',
  group_id: null,
  content: `m${id}`,
  message_type: 'text',
  created_at: 1_700_000_000_000 + id,
  client_msg_id: null,
});

/** message_seq and message_history as plain maps, with the repository's rules. */
function fakeTables() {
  const claims = new Map<string, string>(); // `${conversation}/${seq}` -> message_id
  const history = new Map<string, AcceptedMessage>();
  const claim = (conversation: string, seq: number, id: string) => {
    const key = `${conversation}/${seq}`;
    if (!claims.has(key)) claims.set(key, id);
    return claims.get(key) === id;
  };
  const messages: MessageStoreDeps['messages'] = {
    async claimSeqs(batch) {
      let all = true;
      for (const m of batch) if (!claim(conversationOf(m), m.seq, m.message_id)) all = false;
      if (all) return { conflicts: [], moved: new Map() };
      const held = new Map([...claims].map(([k, id]) => [id, Number(k.split('/').at(-1))]));
      return {
        conflicts: batch.filter((m) => !held.has(m.message_id)),
        moved: new Map(batch.filter((m) => held.has(m.message_id) && held.get(m.message_id) !== m.seq).map((m) => [m.message_id, held.get(m.message_id)!])),
      };
    },
    async claimSeq(conversation, seq, id) {
      return claim(conversation, seq, id);
    },
    async maxClaimedSeq(conversation) {
      return Math.max(0, ...[...claims.keys()].filter((k) => k.startsWith(`${conversation}/`)).map((k) => Number(k.split('/').at(-1))));
    },
    async insertMany(batch) {
      let n = 0;
      for (const m of batch) if (!history.has(m.message_id) && ++n) history.set(m.message_id, m);
      return n;
    },
    async page() {
      return { rows: [], hasMore: false };
    },
    async remove(id) {
      history.delete(id);
      return 0;
    },
  };
  return { claims, history, messages };
}

function store(t: ReturnType<typeof fakeTables>, counter = { n: 0 }) {
  const metrics = createMetrics('worker-persist');
  const store = messageStore({
    messages: t.messages,
    conversations: { record: async () => {}, states: async () => new Map(), refreshLast: async () => {} },
    recalls: { among: async () => new Set<string>() },
    hot: { committed: async () => {}, forget: async () => {} },
    takeSeqAbove: async (_c, floor) => (counter.n = Math.max(counter.n, floor) + 1),
    metrics,
    log: silentLog,
    batchWaitMs: 0,
    maxInFlight: 1,
  });
  const s = { store: (ms: AcceptedMessage[]) => store.store(ms.map((message) => ({ message, redone: false }))).then((out) => out.map((m) => m!)) };
  return { s, metrics, counter };
}

const conflicts = async (metrics: ReturnType<typeof createMetrics>) =>
  (await metrics.errors.get()).values.find((v) => v.labels.kind === 'seq_conflict' && v.labels.component === 'im.persist')?.value ?? 0;

describe('messageStore (unit)', () => {
  it('stores messages under the seqs they carry when no other message holds them', async () => {
    const t = fakeTables();
    const { s, metrics } = store(t);
    const stored = await s.store([message(1, 1), message(2, 2)]);
    assert.deepEqual(stored.map((m) => m.seq), [1, 2]);
    assert.equal(await conflicts(metrics), 0);
  });

  it('stores a message whose (conversation, seq) another message holds under a new seq above every seq claimed, and counts it', async () => {
    const t = fakeTables();
    const { s, metrics } = store(t, { n: 3 });
    await s.store([message(1, 1), message(2, 2), message(3, 3)]);
    // A failover handed seq 2 out again, to another message.
    const [again] = await s.store([message(9, 2)]);
    assert.equal(again!.seq, 4, 'above the counter and every claimed seq');
    assert.equal(t.history.get('1009')!.seq, 4);
    const seqs = [...t.history.values()].map((m) => m.seq).sort();
    assert.deepEqual(seqs, [1, 2, 3, 4], 'no seq twice in history');
    assert.equal(await conflicts(metrics), 1);
  });

  it('keeps the new seq of a message when its round is retried, so a retry neither conflicts again nor moves it', async () => {
    const t = fakeTables();
    const { s, metrics } = store(t, { n: 5 });
    await s.store([message(1, 5)]);
    const [first] = await s.store([message(2, 5)]);
    const [retried] = await s.store([message(2, 5)]);
    assert.equal(first!.seq, 6);
    assert.equal(retried!.seq, 6);
    assert.equal(await conflicts(metrics), 1, 'the retry is not a second conflict');
  });

  it('gives two messages of one round that carry the same seq two seqs', async () => {
    const t = fakeTables();
    const { s } = store(t, { n: 7 });
    const stored = await s.store([message(1, 7), message(2, 7)]);
    assert.deepEqual(stored.map((m) => m.seq), [7, 8]);
  });
});

/** The ids of the messages the store left out as recalled (null in its answer). */
const recalledIn = (out: readonly (AcceptedMessage | null)[]) => out.flatMap((m, i) => (m === null ? [String(1001 + i)] : []));

/** A message whose seq is its number. */
const messageOf = (id: number): AcceptedMessage => message(id, id);

const CONVERSATION = conversationOf(messageOf(1));

/** History, recalls and conversation state as plain maps, with a record of what the store asked. */
function fakeStorage() {
  const history = new Map<string, AcceptedMessage>();
  const recalled = new Set<string>();
  const last = new Map<string, AcceptedMessage>();
  const calls = { recallLookups: 0, cached: [] as string[], forgotten: [] as string[], refreshed: [] as string[] };
  /** Runs inside the INSERT, before its rows land: a recall racing the round. */
  let duringInsert: (() => void) | undefined;
  const deps: MessageStoreDeps = {
    messages: {
      async insertMany(rows) {
        duringInsert?.();
        let n = 0;
        for (const m of rows) if (!history.has(m.message_id) && ++n) history.set(m.message_id, m);
        return n;
      },
      async page() {
        return { rows: [], hasMore: false };
      },
      async remove(id) {
        history.delete(id);
        return 0;
      },
      async claimSeqs() {
        return { conflicts: [], moved: new Map() };
      },
      async claimSeq() {
        return true;
      },
      async maxClaimedSeq() {
        return 0;
      },
    },
    conversations: {
      async record(rows) {
        for (const m of rows) if ((last.get(conversationOf(m))?.seq ?? 0) < m.seq) last.set(conversationOf(m), m);
      },
      async states(conversations) {
        return new Map(conversations.flatMap((c) => (last.has(c) ? [[c, { conversation: c, last_message_id: last.get(c)!.message_id } as ConversationState]] : [])));
      },
      async refreshLast(c) {
        calls.refreshed.push(c);
        const remaining = [...history.values()].filter((m) => conversationOf(m) === c).sort((a, b) => b.seq - a.seq);
        if (remaining[0]) last.set(c, remaining[0]);
        else last.delete(c);
      },
    },
    recalls: {
      async among(ids) {
        calls.recallLookups++;
        return new Set(ids.filter((id) => recalled.has(id)));
      },
    },
    hot: {
      async committed(rows) {
        calls.cached.push(...rows.map((r) => r.message_id));
      },
      async forget(c) {
        calls.forgotten.push(c);
      },
    },
    takeSeqAbove: async () => {
      throw new Error('no seq conflicts here');
    },
    metrics: createMetrics('worker-persist'),
    log: silentLog,
    batchWaitMs: 0,
    maxInFlight: 1,
  };
  /** What a recall does, as read.service runs it: recorded first, then the row goes. */
  const recall = (id: string) => {
    recalled.add(id);
    history.delete(id);
  };
  return { deps, history, last, calls, recall, raceNextInsert: (fn: () => void) => (duringInsert = fn) };
}

describe('messageStore and recalls (unit)', () => {
  it('writes a first run with no recall lookup at all', async () => {
    const s = fakeStorage();
    const out = await messageStore(s.deps).store([messageOf(1), messageOf(2)].map((m) => ({ message: m, redone: false })));
    assert.deepEqual(recalledIn(out), []);
    assert.deepEqual([...s.history.keys()], ['1001', '1002']);
    assert.equal(s.calls.recallLookups, 0, 'the send path pays nothing for recalls');
  });

  it('leaves a message recalled before its job ran again out of history, the conversation and the cache', async () => {
    const s = fakeStorage();
    const store = messageStore(s.deps);
    await store.store([messageOf(1), messageOf(2)].map((m) => ({ message: m, redone: false })));
    s.recall('1002');
    await s.deps.conversations.refreshLast(CONVERSATION);
    s.calls.cached.length = 0;

    const out = await store.store([messageOf(1), messageOf(2)].map((m) => ({ message: m, redone: true })));
    assert.deepEqual(recalledIn(out), ['1002']);
    assert.deepEqual([...s.history.keys()], ['1001'], 'the recalled row is not written again');
    assert.equal(s.last.get(CONVERSATION)?.message_id, '1001', 'the conversation does not point at it');
    assert.deepEqual(s.calls.cached, ['1001'], 'nor does the cache get it');
  });

  it('finishes a recall that ran while the round wrote (its DELETE came before the INSERT put the row back)', async () => {
    const s = fakeStorage();
    const store = messageStore(s.deps);
    await store.store([messageOf(1), messageOf(2)].map((m) => ({ message: m, redone: false })));
    s.raceNextInsert(() => s.recall('1002'));

    const out = await store.store([messageOf(1), messageOf(2)].map((m) => ({ message: m, redone: true })));
    assert.deepEqual(recalledIn(out), ['1002'], 'not handed on');
    assert.deepEqual([...s.history.keys()], ['1001'], 'the row put back is deleted again');
    assert.deepEqual(s.calls.forgotten, [CONVERSATION], 'the cache that may hold it is dropped');
    assert.deepEqual(s.calls.refreshed, [CONVERSATION]);
    assert.equal(s.last.get(CONVERSATION)?.message_id, '1001');
    assert.equal(s.calls.recallLookups, 2, 'one lookup before the INSERT, one after');
  });
});
