import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AcceptedGroup } from '@im/contracts';
import { jobContext, recordingQueue } from '@im/worker-kit/testing';
import { handleFanout, type FanoutDeps } from './fanout.handler';

const message: AcceptedGroup = {
  message_id: '5000',
  seq: 1,
  sender_id: '1',
  receiver_id: null,
  group_id: '77',
  content: 'hi all',
  message_type: 'text',
  created_at: 1_700_000_000_000,
  client_msg_id: null,
};

function run(members: string[], chunkSize: number) {
  const deliverQueue = recordingQueue();
  const deps = { members: async () => members, deliverQueue, handOff: async (add: () => Promise<unknown>) => void (await add()), chunkSize } as unknown as FanoutDeps;
  return { deliverQueue, done: handleFanout({ message }, jobContext(deps)) };
}

describe('handleFanout (unit)', () => {
  it("splits the members (the sender too, for the sender's other devices) into chunks, each a delivery job with an id from the message and the chunk number", async () => {
    const members = ['1', ...Array.from({ length: 7 }, (_, i) => String(10 + i))];
    const { deliverQueue, done } = run(members, 3);
    await done;
    assert.deepEqual(
      deliverQueue.added.map((j) => [j.opts?.jobId, j.data.items[0].receivers]),
      [
        ['f5000-0', ['1', '10', '11']],
        ['f5000-1', ['12', '13', '14']],
        ['f5000-2', ['15', '16']],
      ],
    );
    assert.ok(deliverQueue.added.every((j) => j.data.items[0].message === message));
  });

  it('queues nothing for a group without members', async () => {
    const { deliverQueue, done } = run([], 3);
    await done;
    assert.deepEqual(deliverQueue.added, []);
  });
});
