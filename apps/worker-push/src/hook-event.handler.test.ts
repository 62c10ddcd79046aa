import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AcceptedMessage, HookJob } from '@im/contracts';
import { AppError } from '@im/errors';
import { createMetrics } from '@im/metrics';
import { jobContext } from '@im/worker-kit/testing';
import { handleHookEvent, type HookEventDeps } from './hook-event.handler';
import type { SendOutcome } from './providers/provider';

const m = (id: number): AcceptedMessage => ({ message_id: String(id), seq: id, sender_id: '1', receiver_id: '2', group_id: null, content: `c${id}`, message_type: 'text', created_at: 1_700_000_000_000, client_msg_id: 'k' });

function world(outcome: SendOutcome, urls = { after_send: 'http://hook/send', after_recall: 'http://hook/recall' }) {
  const posted: { url: string; body: any }[] = [];
  const deps: HookEventDeps = {
    urls,
    post: async (url, body) => {
      posted.push({ url, body: JSON.parse(body) });
      return outcome;
    },
    metrics: createMetrics('worker-push'),
  };
  return { deps, posted };
}

describe('handleHookEvent (unit)', () => {
  it('posts after_send with the stored messages and the job id as event_id (the same on every attempt)', async () => {
    const w = world({ kind: 'sent' });
    const job: HookJob = { event: 'after_send', messages: [m(5), m(6)] };
    await handleHookEvent(job, jobContext(w.deps, 'eb5'));
    await handleHookEvent(job, jobContext(w.deps, 'eb5', 2));
    assert.equal(w.posted[0]!.url, 'http://hook/send');
    assert.deepEqual(w.posted[0]!.body.messages[0], { message_id: '5', seq: 5, sender_id: '1', receiver_id: '2', group_id: null, conversation: 's:1:2', content: 'c5', message_type: 'text', timestamp: 1_700_000_000_000, client_msg_id: 'k' });
    assert.deepEqual([w.posted[0]!.body.event_id, w.posted[1]!.body.event_id], ['eb5', 'eb5']);
  });

  it('retries what was not taken (with Retry-After), fails for good what the receiver refused, drops an event whose URL is gone', async () => {
    const recall: HookJob = { event: 'after_recall', recall: { message_id: '5', conversation: 's:1:2', seq: 5, sender_id: '1', receiver_id: '2', group_id: null, recalled_at: 1 } };
    await assert.rejects(handleHookEvent(recall, jobContext(world({ kind: 'retry', reason: 'HTTP 503', retryAfterS: 4 }).deps)), (e: unknown) => e instanceof AppError && e.code === 'UNAVAILABLE' && e.retryAfterNamedS === 4);
    await assert.rejects(handleHookEvent(recall, jobContext(world({ kind: 'refused', status: 401, reason: 'HTTP 401' }).deps)), (e: unknown) => e instanceof AppError && !e.retryable);
    const gone = world({ kind: 'sent' }, { after_send: 'http://hook/send', after_recall: '' });
    await handleHookEvent(recall, jobContext(gone.deps));
    assert.equal(gone.posted.length, 0);
  });
});
