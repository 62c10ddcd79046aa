import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conversationOf, type AcceptedMessage } from '@im/contracts';
import type { ConversationState } from '@im/db';
import { createMetrics } from '@im/metrics';
import { messageStore, type MessageStoreDeps } from './message-store';

const message = (id: number): AcceptedMessage => ({
  message_id: String(1000 + id),
  seq: id,
  sender_id: '1',
  receiver_id: '2',
  group_id: null,
  content: `m${id}`,
  message_type: 'text',
  created_at: 1_700_000_000_000 + id,
  client_msg_id: null,
});
const CONVERSATION = conversationOf(message(1));

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
    metrics: createMetrics('worker-persist'),
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

describe('messageStore (unit)', () => {
  it('writes a first run with no recall lookup at all', async () => {
    const s = fakeStorage();
    const out = await messageStore(s.deps).store([message(1), message(2)].map((m) => ({ message: m, redone: false })));
    assert.deepEqual(out, new Set());
    assert.deepEqual([...s.history.keys()], ['1001', '1002']);
    assert.equal(s.calls.recallLookups, 0, 'the send path pays nothing for recalls');
  });

  it('leaves a message recalled before its job ran again out of history, the conversation and the cache', async () => {
    const s = fakeStorage();
    const store = messageStore(s.deps);
    await store.store([message(1), message(2)].map((m) => ({ message: m, redone: false })));
    s.recall('1002');
    await s.deps.conversations.refreshLast(CONVERSATION);
    s.calls.cached.length = 0;

    const out = await store.store([message(1), message(2)].map((m) => ({ message: m, redone: true })));
    assert.deepEqual(out, new Set(['1002']));
    assert.deepEqual([...s.history.keys()], ['1001'], 'the recalled row is not written again');
    assert.equal(s.last.get(CONVERSATION)?.message_id, '1001', 'the conversation does not point at it');
    assert.deepEqual(s.calls.cached, ['1001'], 'nor does the cache get it');
  });

  it('finishes a recall that ran while the round wrote (its DELETE came before the INSERT put the row back)', async () => {
    const s = fakeStorage();
    const store = messageStore(s.deps);
    await store.store([message(1), message(2)].map((m) => ({ message: m, redone: false })));
    s.raceNextInsert(() => s.recall('1002'));

    const out = await store.store([message(1), message(2)].map((m) => ({ message: m, redone: true })));
    assert.deepEqual(out, new Set(['1002']), 'not handed on');
    assert.deepEqual([...s.history.keys()], ['1001'], 'the row put back is deleted again');
    assert.deepEqual(s.calls.forgotten, [CONVERSATION], 'the cache that may hold it is dropped');
    assert.deepEqual(s.calls.refreshed, [CONVERSATION]);
    assert.equal(s.last.get(CONVERSATION)?.message_id, '1001');
    assert.equal(s.calls.recallLookups, 2, 'one lookup before the INSERT, one after');
  });
});
