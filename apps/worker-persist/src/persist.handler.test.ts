import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AcceptedMessage } from '@im/contracts';
import { createMetrics } from '@im/metrics';
import { batchItem, recordingQueue, silentLog } from '@im/worker-kit/testing';
import { handlePersist, type PersistDeps } from './persist.handler';

const message = (id: number, over: Partial<AcceptedMessage> = {}): AcceptedMessage => ({
  message_id: String(1000 + id),
  seq: id,
  sender_id: '1',
  receiver_id: '2',
  group_id: null,
  content: `m${id}`,
  message_type: 'text',
  created_at: 1_700_000_000_000 + id,
  client_msg_id: null,
  ...over,
}) as AcceptedMessage;

function deps(store: PersistDeps['store'] = async (batch) => batch.map((i) => i.message), reclaim: PersistDeps['reclaim'] = async () => new Set()) {
  const deliverQueue = recordingQueue();
  const fanoutQueue = recordingQueue();
  const d = { store, reclaim, deliverQueue, fanoutQueue, handOff: async (add: () => Promise<unknown>) => void (await add()), metrics: createMetrics('worker-persist') } as unknown as PersistDeps;
  return { d, deliverQueue, fanoutQueue };
}

describe('handlePersist (unit)', () => {
  it('with after_send on, adds one event job per persist job with its stored messages, in the same hand-off, none for a job all recalled', async () => {
    const hookQueue = recordingQueue();
    const { d } = deps(async (batch) => batch.map((i) => (i.message.seq === 3 ? null : { ...i.message, content: `${i.message.content}!` })));
    const withHook = { ...d, hookQueue } as unknown as PersistDeps;
    await handlePersist([batchItem<'im.persist'>('b1001', { messages: [message(1), message(2)] }), batchItem<'im.persist'>('b1003', { messages: [message(3)] })], { deps: withHook, log: silentLog });
    assert.deepEqual(
      hookQueue.added.map((j) => [j.name, j.opts?.jobId, j.data.event, j.data.messages.map((m: AcceptedMessage) => m.content)]),
      [['event', 'eb1001', 'after_send', ['m1!', 'm2!']]],
    );
  });

  it('stores every message of the round once, in queue order, then hands single chats to delivery per job and groups to fan-out per message', async () => {
    const stored: AcceptedMessage[][] = [];
    const { d, deliverQueue, fanoutQueue } = deps(async (batch) => {
      assert.ok(batch.every((i) => !i.redone), 'first runs');
      stored.push(batch.map((i) => i.message));
      return batch.map((i) => i.message);
    });
    const g = message(3, { receiver_id: null, group_id: '77' });
    await handlePersist([batchItem<'im.persist'>('b1001', { messages: [message(1), message(2)] }), batchItem<'im.persist'>('b1003', { messages: [g, message(4)] })], { deps: d, log: silentLog });
    assert.deepEqual(stored.map((b) => b.map((m) => m.seq)), [[1, 2, 3, 4]], 'one store call for the round');
    assert.deepEqual(
      deliverQueue.added.map((j) => [j.name, j.opts?.jobId, j.data.items.map((i: any) => [i.message.seq, i.receivers])]),
      [
        ['deliver', 'pb1001', [[1, ['2', '1']], [2, ['2', '1']]]],
        ['deliver', 'pb1003', [[4, ['2', '1']]]],
      ],
    );
    assert.deepEqual(fanoutQueue.added.map((j) => [j.name, j.opts?.jobId, j.data.message.seq]), [['fanout', 'g1003', 3]]);
  });

  it('hands on each message with the seq it was stored under', async () => {
    const { d, deliverQueue } = deps(async (batch) => batch.map((i) => ({ ...i.message, seq: i.message.seq + 100 })));
    await handlePersist([batchItem<'im.persist'>('b1007', { messages: [message(7)] })], { deps: d, log: silentLog });
    assert.deepEqual(deliverQueue.added.map((j) => j.data.items.map((i: any) => i.message.seq)), [[107]]);
  });

  it('hands nothing on when the store fails (the round is retried whole)', async () => {
    const { d, deliverQueue, fanoutQueue } = deps(async () => {
      throw new Error('connection lost');
    });
    await assert.rejects(handlePersist([batchItem<'im.persist'>('b1', { messages: [message(1)] })], { deps: d, log: silentLog }), /connection lost/);
    assert.equal(deliverQueue.added.length + fanoutQueue.added.length, 0);
  });

  it('marks the messages of jobs that ran before as redone, and hands on none that the store found recalled', async () => {
    const seen: [string, boolean][] = [];
    const g = message(3, { receiver_id: null, group_id: '77' });
    const { d, deliverQueue, fanoutQueue } = deps(async (batch) => {
      seen.push(...batch.map((i) => [i.message.message_id, i.redone] as [string, boolean]));
      return batch.map((i) => (['1002', '1003'].includes(i.message.message_id) ? null : i.message));
    });
    await handlePersist(
      [batchItem<'im.persist'>('b1001', { messages: [message(1), message(2)] }, 2), batchItem<'im.persist'>('b1003', { messages: [g, message(4)] }, 1, true)],
      { deps: d, log: silentLog },
    );
    assert.deepEqual(seen, [['1001', true], ['1002', true], ['1003', true], ['1004', true]]);
    assert.deepEqual(
      deliverQueue.added.map((j) => [j.opts?.jobId, j.data.items.map((i: any) => i.message.message_id)]),
      [
        ['pb1001', ['1001']],
        ['pb1003', ['1004']],
      ],
    );
    assert.deepEqual(fanoutQueue.added, [], 'the recalled group message is not fanned out');
  });

  it('adds no delivery job for a job whose every message was recalled', async () => {
    const { d, deliverQueue } = deps(async (batch) => batch.map(() => null));
    await handlePersist([batchItem<'im.persist'>('b1005', { messages: [message(5)] }, 3)], { deps: d, log: silentLog });
    assert.deepEqual(deliverQueue.added, []);
  });

  it('adds the same job ids when a round is retried, so BullMQ keeps one of each', async () => {
    const { d, deliverQueue } = deps();
    const items = [batchItem<'im.persist'>('b9', { messages: [message(9)] })];
    await handlePersist(items, { deps: d, log: silentLog });
    await handlePersist(items, { deps: d, log: silentLog });
    assert.deepEqual(deliverQueue.added.map((j) => j.opts?.jobId), ['pb9', 'pb9']);
  });

  it('neither stores nor hands on a message whose send a repeat superseded, and goes on with the others', async () => {
    const asked: string[][] = [];
    const stored: string[] = [];
    const { d, deliverQueue } = deps(
      async (batch) => {
        stored.push(...batch.map((i) => i.message.message_id));
        return batch.map((i) => i.message);
      },
      async (messages) => {
        asked.push(messages.map((m) => `${m.job_id}:${m.message_id}:${m.client_msg_id}:${m.conversation}`));
        return new Set(['1002']);
      },
    );
    await handlePersist([batchItem<'im.persist'>('b1001', { messages: [message(1, { client_msg_id: 'c1' }), message(2, { client_msg_id: 'c2' }), message(3)] })], { deps: d, log: silentLog });
    assert.deepEqual(asked, [['b1001:1001:c1:s:1:2', 'b1001:1002:c2:s:1:2', 'b1001:1003:null:s:1:2']]);
    assert.deepEqual(stored, ['1001', '1003']);
    assert.deepEqual(deliverQueue.added.map((j) => (j.data as { items: { message: AcceptedMessage }[] }).items.map((i) => i.message.message_id)), [['1001', '1003']]);
  });
});
