import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { RowDataPacket } from 'mysql2/promise';
import { conversationKeys } from '@im/contracts';
import { closeRedis, keys, topology, type Redis } from '@im/redis';
import type { TestDatabase } from '../support/db';
import { randomUserBase, testRedis, topology as testTopology } from '../support/env';
import type { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { suiteFleet, type SuiteFleet } from '../support/suite-fleet';
import { waitFor } from '../support/wait';

/**
 * Recall is final and can be retried: a persist round retried after it had committed does not
 * bring a recalled message back (even once the Redis tombstone is gone), and a recall that failed
 * half-way is finished by the next DELETE. Faults come from triggers that refuse one statement of
 * one conversation, as a failing MySQL would.
 */
describe('recall: final, and safe to retry', () => {
  let suite: SuiteFleet;
  let db: TestDatabase;
  let fleet: Fleet;
  let redis: Redis;
  let persistQueue: Queue;
  let gateway: GatewaySimulator;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const [ann, ben, cat, dan] = [id(1), id(2), id(3), id(4)];

  before(async () => {
    // A round that fails while a test holds its fault in place retries until the fault is gone.
    suite = await suiteFleet(['ingest-api', 'worker-persist', 'worker-delivery']);
    ({ db, fleet } = suite);
    for (const u of [ann, ben, cat, dan]) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: `n${u.slice(-1)}` })).status, 204);
    redis = testRedis();
    // The persist queue of the shard that holds ann and ben's conversation (the fleet may run several).
    const shard = topology({ prefix: fleet.prefix, shards: testTopology().shards }).of(conversationKeys.single(ann, ben));
    persistQueue = new Queue('im.persist', { connection: redis, prefix: shard.queuePrefix });
    gateway = new GatewaySimulator(fleet.api, 'gw-recall');
    await gateway.connect([dan]);
  });

  after(async () => {
    await gateway?.close();
    await persistQueue?.close();
    if (redis) await closeRedis(redis);
    await suite?.close();
  });

  const count = async (sql: string, args: unknown[]) => Number((await db.pool.query<RowDataPacket[]>(sql, args))[0][0]!.n);
  const inHistory = (messageId: string) => count('SELECT COUNT(*) AS n FROM message_history WHERE message_id = ?', [messageId]);
  const offlineRows = (messageId: string) => count('SELECT COUNT(*) AS n FROM offline_message WHERE message_id = ?', [messageId]);
  const persistPending = async () => {
    const c = await persistQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed');
    return Object.values(c).reduce((a, b) => a + b, 0);
  };

  it('a persist round retried after it had committed does not bring a recalled message back', async () => {
    const conversation = conversationKeys.single(ann, ben);
    // The round commits the history row, then fails on the conversation list: it is retried.
    await db.pool.query(
      `CREATE TRIGGER refuse_list_row BEFORE INSERT ON user_conversation FOR EACH ROW
       BEGIN IF NEW.conversation = '${conversation}' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'list row refused by the test trigger'; END IF; END`,
    );
    try {
      const sent = await fleet.api.post('/v1/messages', { sender_id: ann, receiver_id: ben, content: 'sent, committed, then the round failed' });
      assert.equal(sent.status, 202);
      const messageId: string = sent.body.message_id;
      await waitFor('the history row committed by the failing round', async () => (await inHistory(messageId)) === 1);
      await waitFor('the round failed at least once', () => /list row refused by the test trigger/.test(fleet.logs('worker-persist')));

      const recall = await fleet.api.del(`/v1/messages/${messageId}?user_id=${ann}`);
      assert.equal(recall.status, 200, JSON.stringify(recall.body));
      assert.deepEqual(recall.body, { deleted: true });
      assert.equal(await inHistory(messageId), 0);

      // The retry comes after the Redis tombstone expired (the job waited out an outage, or sat in
      // the failed set until an operator retried it): only MySQL still knows of the recall.
      await redis.del(keys.recalled(messageId));
      await db.pool.query('DROP TRIGGER refuse_list_row');
      await waitFor('the persist job done (retried, then completed)', async () => (await persistPending()) === 0, 30_000);

      assert.equal(await inHistory(messageId), 0, 'the recalled message stays out of history');
      assert.equal(await offlineRows(messageId), 0, 'and is not delivered (ben is offline: it would be an offline row)');
      const [state] = (await db.pool.query<RowDataPacket[]>('SELECT last_message_id FROM conversation_state WHERE conversation = ?', [conversation]))[0];
      assert.notEqual(String(state?.last_message_id), messageId, 'the conversation does not point at it');
      const history = await fleet.api.get(`/v1/users/${ben}/history?peer_id=${ann}`);
      assert.deepEqual(history.body, { messages: [], has_more: false });
      const pulled = await fleet.api.get(`/v1/users/${ben}/offline-messages?limit=100`);
      assert.deepEqual(pulled.body.messages, []);
    } finally {
      await db.pool.query('DROP TRIGGER IF EXISTS refuse_list_row');
    }
  });

  it('a recall that failed half-way is finished by the next DELETE, which answers as the first would have', async () => {
    const conversation = conversationKeys.single(cat, dan);
    const first = await fleet.api.post('/v1/messages', { sender_id: cat, receiver_id: dan, content: 'stays' });
    const second = await fleet.api.post('/v1/messages', { sender_id: cat, receiver_id: dan, content: 'taken back' });
    const kept: string = first.body.message_id;
    const recalled: string = second.body.message_id;
    const heard = await waitFor('dan hears both', () => {
      const got = gateway.for(dan).filter((p) => p.event === 'message').map((p) => p.message_id);
      return got.includes(kept) && got.includes(recalled) ? got : undefined;
    });
    assert.equal(heard.length, 2);
    await gateway.ack(dan, [kept, recalled]);
    const lastOf = async (user: string, peer: string) =>
      (await fleet.api.get(`/v1/users/${user}/conversations`)).body.conversations.find((c: any) => c.peer_id === peer)?.last_message?.message_id;
    assert.equal(await lastOf(cat, dan), recalled);

    // The recall fails after the history row is gone: the conversation's last message cannot move back.
    await db.pool.query(
      `CREATE TRIGGER refuse_state BEFORE UPDATE ON conversation_state FOR EACH ROW
       BEGIN IF OLD.conversation = '${conversation}' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'state refused by the test trigger'; END IF; END`,
    );
    try {
      const failed = await fleet.api.del(`/v1/messages/${recalled}?user_id=${cat}`);
      // MySQL refused a statement: an error of the backing service, 503 (retry).
      assert.equal(failed.status, 503, JSON.stringify(failed.body));
      assert.equal(await inHistory(recalled), 0, 'the first try got as far as deleting the history row');
    } finally {
      await db.pool.query('DROP TRIGGER IF EXISTS refuse_state');
    }
    assert.ok(!gateway.for(dan).some((p) => p.event === 'recall'), 'no recall event yet');

    const again = await fleet.api.del(`/v1/messages/${recalled}?user_id=${cat}`);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(again.body, { deleted: true });
    assert.equal((await fleet.api.del(`/v1/messages/${recalled}?user_id=${dan}`)).status, 403, 'still only the sender');
    const event = await waitFor('the recall event', () => gateway.for(dan).find((p) => p.event === 'recall' && p.message_id === recalled));
    assert.equal(event.sender_id, cat);
    assert.equal(event.receiver_id, dan);
    assert.equal(await lastOf(cat, dan), kept, "the sender's list moves back to the message before");
    assert.equal(await lastOf(dan, cat), kept, "and the receiver's");
    const page = await fleet.api.get(`/v1/users/${dan}/history?peer_id=${cat}`);
    assert.deepEqual(page.body.messages.map((m: any) => m.message_id), [kept]);

    // Once more: the same answer, the same event, nothing else changes.
    const third = await fleet.api.del(`/v1/messages/${recalled}?user_id=${cat}`);
    assert.deepEqual([third.status, third.body], [200, { deleted: true }]);
    const events = await waitFor('the second recall event', () => {
      const e = gateway.for(dan).filter((p) => p.event === 'recall' && p.message_id === recalled);
      return e.length === 2 ? e : undefined;
    });
    assert.deepEqual(events[1], events[0], 'a repeated recall publishes the same event (gateways drop it by message_id)');
    assert.equal(await lastOf(cat, dan), kept);
    assert.equal(await inHistory(kept), 1);
    assert.equal((await fleet.api.del(`/v1/messages/${id(999)}?user_id=${cat}`)).status, 404, 'an id never sent is still unknown');
  });
});
