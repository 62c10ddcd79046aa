import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { conversationOf, type AcceptedMessage } from '@im/contracts';
import { messagesRepository, type MessagesRepository } from '@im/db';
import { closeRedis, hotHistory, topology, type HotHistory, type Redis } from '@im/redis';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase, testRedis, topology as testTopology, uniqueName } from '../support/env';

/**
 * The hot-conversation cache against MySQL, on real Redis and MariaDB: whatever mix of commits
 * (out of seq order, concurrent), reads and recalls, a first page the cache answers is the page
 * MySQL answers.
 */
describe('hot-conversation cache', () => {
  let db: TestDatabase;
  let redis: Redis;
  let messages: MessagesRepository;
  const base = randomUserBase();
  let nextId = BigInt(Date.now()) * 1_000_000n;

  before(async () => {
    db = await createTestDatabase();
    redis = testRedis();
    messages = messagesRepository(db.pool);
  });
  after(async () => {
    await closeRedis(redis);
    await db.drop();
  });

  const cache = (size: number): HotHistory => hotHistory(redis, { size, ttlS: 60, topology: topology({ prefix: `{${uniqueName('imt')}}`, shards: testTopology().shards }) });
  const newest = (conversation: string, limit: number) => messages.page(conversation, null, limit);
  const groupMessage = (group: bigint, seq: number, content = `message ${seq}`): AcceptedMessage => ({
    message_id: String(nextId++),
    seq,
    sender_id: String(base + 1n),
    receiver_id: null,
    group_id: String(group),
    content,
    message_type: 'text',
    created_at: Date.now(),
    client_msg_id: null,
  });
  /** What worker-persist does: the INSERT, then the cache. */
  async function commit(hot: HotHistory, batch: AcceptedMessage[]): Promise<void> {
    await messages.insertMany(batch);
    await hot.committed(
      batch.map((m) => ({ ...m, conversation: conversationOf(m) })),
      newest,
    );
  }
  const strip = (rows: readonly { conversation?: string; message_id: string }[]) => rows.map(({ conversation: _c, ...r }) => r);

  it('answers exactly what MySQL answers through out-of-order commits, reads of every size and recalls', async () => {
    const hot = cache(30);
    const group = base + 100n;
    const conversation = `g:${group}`;
    let rand = 12345;
    const random = (n: number) => {
      rand = (rand * 1103515245 + 12345) & 0x7fffffff;
      return rand % n;
    };
    let seq = 0;
    const ids: string[] = [];
    let hits = 0;
    let misses = 0;
    for (let step = 0; step < 400; step++) {
      const action = random(10);
      if (action < 5) {
        // A batch of 1-6 messages with their seqs shuffled, as concurrent persist rounds commit them.
        const batch = Array.from({ length: 1 + random(6) }, () => groupMessage(group, ++seq));
        for (let i = batch.length - 1; i > 0; i--) {
          const j = random(i + 1);
          [batch[i], batch[j]] = [batch[j]!, batch[i]!];
        }
        ids.push(...batch.map((m) => m.message_id));
        if (random(2) === 0) await commit(hot, batch);
        else await Promise.all([commit(hot, batch.slice(0, 1)), commit(hot, batch.slice(1))]);
      } else if (action < 9) {
        const limit = 1 + random(40);
        const cached = await hot.read(conversation, limit);
        const fromMysql = await messages.page(conversation, null, limit);
        if (cached) {
          hits++;
          assert.deepEqual(cached.rows, strip(fromMysql.rows), `step ${step}: limit ${limit}`);
          assert.equal(cached.hasMore, fromMysql.hasMore, `step ${step}: has_more at limit ${limit}`);
        } else misses++;
      } else if (ids.length > 0) {
        // Recall: the row goes, then the cache.
        const [id] = ids.splice(random(ids.length), 1);
        await messages.remove(id!);
        await hot.forget(conversation);
      }
    }
    assert.ok(hits > 50, `the cache answered ${hits} reads (${misses} went to MySQL)`);
    assert.ok(misses > 0, 'recalls sent reads back to MySQL');
  });

  it('holds a short conversation whole: a page longer than the conversation comes from the cache, has_more false', async () => {
    const hot = cache(30);
    const group = base + 200n;
    const conversation = `g:${group}`;
    await commit(hot, [groupMessage(group, 1), groupMessage(group, 2)]);
    assert.equal(await hot.read(conversation, 10), undefined, 'the first read asks for the cache');
    await commit(hot, [groupMessage(group, 3)]);
    const cached = await hot.read(conversation, 10);
    assert.deepEqual(
      cached?.rows.map((r) => r.seq),
      [3, 2, 1],
    );
    assert.equal(cached?.hasMore, false);
  });

  it('keeps only the configured number of rows, and then answers only pages shorter than it', async () => {
    const hot = cache(5);
    const group = base + 300n;
    const conversation = `g:${group}`;
    await hot.read(conversation, 2);
    for (let s = 1; s <= 12; s++) await commit(hot, [groupMessage(group, s)]);
    const key = (await redis.keys(`*:hot:${conversation}`))[0] ?? '';
    // Cluster: KEYS only sees one node; the row count is checked through reads there.
    if (key) assert.equal(await redis.zcard(key), 6, 'five rows and the meta member');
    assert.deepEqual((await hot.read(conversation, 4))?.rows.map((r) => r.seq), [12, 11, 10, 9]);
    assert.equal((await hot.read(conversation, 4))?.hasMore, true);
    assert.equal(await hot.read(conversation, 5), undefined, 'has_more of a page of 5 is not known from 5 rows');
  });

  it('does not write a fill read before a recall into the cache the recall dropped', async () => {
    const hot = cache(30);
    const group = base + 400n;
    const conversation = `g:${group}`;
    const first = [groupMessage(group, 1), groupMessage(group, 2), groupMessage(group, 3)];
    await messages.insertMany(first);
    await hot.read(conversation, 2);
    const recalled = first[2]!;
    // The fill reads MySQL; the recall lands between that read and the fill's write, and a read
    // asks for the cache again before the write.
    await hot.committed(
      first.map((m) => ({ ...m, conversation })),
      async (c, limit) => {
        const page = await newest(c, limit);
        await messages.remove(recalled.message_id);
        await hot.forget(c);
        assert.equal(await hot.read(c, 2), undefined);
        return page;
      },
    );
    assert.equal(await hot.read(conversation, 2), undefined, 'the cache asked for again was not filled with the recalled message');
    await commit(hot, [groupMessage(group, 4)]);
    const cached = await hot.read(conversation, 2);
    assert.deepEqual(
      cached?.rows.map((r) => r.seq),
      [4, 2],
    );
  });

  it('keeps many conversations in one round (on a cluster: one call per slot)', async () => {
    const hot = cache(30);
    const groups = Array.from({ length: 24 }, (_, i) => base + 1000n + BigInt(i));
    for (const g of groups) assert.equal(await hot.read(`g:${g}`, 3), undefined);
    await commit(hot, groups.flatMap((g) => [groupMessage(g, 1), groupMessage(g, 2)]));
    await commit(hot, groups.flatMap((g) => [groupMessage(g, 3), groupMessage(g, 4)]));
    for (const g of groups) {
      const cached = await hot.read(`g:${g}`, 3);
      assert.deepEqual(cached?.rows.map((r) => [r.group_id, r.seq]), [4, 3, 2].map((seq) => [String(g), seq]));
      assert.equal(cached?.hasMore, true);
    }
  });

  it('does nothing when turned off', async () => {
    const hot = cache(0);
    const group = base + 500n;
    const conversation = `g:${group}`;
    assert.equal(await hot.read(conversation, 10), undefined);
    await commit(hot, [groupMessage(group, 1)]);
    assert.equal(await hot.read(conversation, 10), undefined);
    assert.deepEqual(await redis.keys(`*:hot:${conversation}`), []);
  });
});
