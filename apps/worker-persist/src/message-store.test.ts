import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conversationOf, type AcceptedMessage } from '@im/contracts';
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
  };
  return { claims, history, messages };
}

function store(t: ReturnType<typeof fakeTables>, counter = { n: 0 }) {
  const metrics = createMetrics('worker-persist');
  const s = messageStore({
    messages: t.messages,
    conversations: { record: async () => {} },
    hot: { committed: async () => {} },
    takeSeqAbove: async (_c, floor) => (counter.n = Math.max(counter.n, floor) + 1),
    metrics,
    log: silentLog,
    batchWaitMs: 0,
    maxInFlight: 1,
  });
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
