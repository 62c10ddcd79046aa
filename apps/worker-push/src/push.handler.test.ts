import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AcceptedMessage, PushDevice } from '@im/contracts';
import type { PushToken } from '@im/db';
import { AppError } from '@im/errors';
import { createMetrics } from '@im/metrics';
import { jobContext, recordingQueue } from '@im/worker-kit/testing';
import { handlePush, type PushDeps } from './push.handler';
import type { PushNotice, SendOutcome } from './providers/provider';

const message = (id: number, sender = '1', receiver = '2'): AcceptedMessage => ({
  message_id: String(1000 + id),
  seq: id,
  sender_id: sender,
  receiver_id: receiver,
  group_id: null,
  content: `text ${id}`,
  message_type: 'text',
  created_at: 1_700_000_000_000 + id,
  client_msg_id: null,
});
const dev = (user_id: string, device_id = 'default'): PushDevice => ({ user_id, device_id });

/** Deps from plain objects: windows in a Map, tokens and mutes in arrays, one scripted provider. */
function world(o: { tokens?: PushToken[]; muted?: string[]; outcome?: SendOutcome; includeContent?: boolean; maxAgeMs?: number } = {}) {
  const windows = new Map<string, { window: string; ids: Set<string>; newest: [string, string] }>();
  const sending = new Map<string, { count: number; newest: string }>();
  const sent: PushNotice[] = [];
  const removed: string[] = [];
  const queue = recordingQueue();
  const metrics = createMetrics('worker-push');
  let tokens = [...(o.tokens ?? [])];
  const key = (d: PushDevice) => `${d.user_id}/${d.device_id}`;
  const deps: PushDeps = {
    windows: {
      async add(d, id, body, proposed) {
        let w = windows.get(key(d));
        if (!w) windows.set(key(d), (w = { window: proposed, ids: new Set(), newest: [id, body] }));
        w.ids.add(id);
        if (BigInt(id) > BigInt(w.newest[0])) w.newest = [id, body];
        return w.window;
      },
      async take(d, window) {
        const k = `${key(d)}@${window}`;
        if (sending.has(k)) return sending.get(k)!;
        const w = windows.get(key(d));
        if (!w || w.window !== window) return null;
        windows.delete(key(d));
        sending.set(k, { count: w.ids.size, newest: w.newest[1] });
        return sending.get(k)!;
      },
      async sent(d, window) {
        sending.delete(`${key(d)}@${window}`);
      },
    },
    tokens: async (ds) => tokens.filter((t) => ds.some((d) => key(d) === key(t))),
    muted: async (pairs) => new Set(pairs.map((p) => `${p.user_id}/${p.conversation}`).filter((k) => (o.muted ?? []).includes(k))),
    removeToken: async (d, token) => {
      removed.push(`${key(d)}:${token}`);
      tokens = tokens.filter((t) => !(key(t) === key(d) && t.token === token));
      return true;
    },
    providers: {
      webhook: {
        platform: 'webhook',
        send: async (_token, notice) => {
          sent.push(notice);
          return o.outcome ?? { kind: 'sent' };
        },
      },
    },
    pushQueue: queue as unknown as PushDeps['pushQueue'],
    windowMs: 1000,
    maxAgeMs: o.maxAgeMs ?? 86_400_000,
    includeContent: o.includeContent ?? false,
    metrics,
    now: () => 1_700_000_100_000,
  };
  const count = async (name: 'pushes' | 'pushDeliveries') =>
    Object.fromEntries((await metrics[name].get()).values.filter((v) => v.value > 0).map((v) => [Object.values(v.labels).join(' '), v.value]));
  return { deps, windows, sending, sent, removed, queue, count };
}

const token = (user: string, t = `tok-${user}`, platform: PushToken['platform'] = 'webhook'): PushToken => ({ user_id: user, device_id: 'default', platform, token: t });
const deliveries = (...pairs: [AcceptedMessage, PushDevice[]][]) => ({ deliveries: pairs.map(([message, devices]) => ({ message, devices })) });

describe('handlePush (unit)', () => {
  it('gathers a burst for a device into one window, counted once per message, closed by one delayed job', async () => {
    const w = world({ tokens: [token('2')] });
    await handlePush(deliveries([message(1), [dev('2')]], [message(2), [dev('2')]]), jobContext(w.deps));
    await handlePush(deliveries([message(2), [dev('2')]], [message(3), [dev('2')]]), jobContext(w.deps)); // a retried delivery repeats message 2
    assert.equal(w.windows.get('2/default')!.ids.size, 3);
    const closers = w.queue.added.map((a) => a.data);
    assert.deepEqual(new Set(closers.map((c) => JSON.stringify(c))).size, 1, 'every add names the same window: one job id');
    assert.deepEqual(closers[0], { flush: { user_id: '2', device_id: 'default', window: '1700000100000' } });
    assert.equal(new Set(w.queue.added.map((a) => a.opts?.jobId)).size, 1);

    await handlePush(closers[0], jobContext(w.deps));
    assert.equal(w.sent.length, 1);
    assert.equal(w.sent[0]!.count, 3);
    assert.equal(w.sent[0]!.message.message_id, '1003');
    assert.equal(w.sent[0]!.message.content, undefined, 'no text without push.include_content');
    assert.equal(w.sent[0]!.collapse_id, 's:1:2');
    // Closing it again (a duplicate job) sends nothing.
    await handlePush(closers[0], jobContext(w.deps));
    assert.equal(w.sent.length, 1);
    assert.deepEqual(await w.count('pushes'), { 'webhook sent': 1 });
  });

  it('carries the text only with push.include_content', async () => {
    const w = world({ tokens: [token('2')], includeContent: true });
    await handlePush(deliveries([message(1), [dev('2')]]), jobContext(w.deps));
    await handlePush(w.queue.added[0]!.data, jobContext(w.deps));
    assert.equal(w.sent[0]!.message.content, 'text 1');
  });

  it('skips muted conversations and devices without a token', async () => {
    const w = world({ tokens: [token('2'), token('3')], muted: ['2/s:1:2'] });
    await handlePush(deliveries([message(1), [dev('2'), dev('3'), dev('4')]]), jobContext(w.deps));
    assert.deepEqual([...w.windows.keys()], ['3/default']);
    assert.deepEqual(await w.count('pushDeliveries'), { muted: 1, windowed: 1, no_token: 1 });
  });

  it('removes a token the provider says is gone, without a retry', async () => {
    const w = world({ tokens: [token('2')], outcome: { kind: 'bad_token', reason: 'HTTP 410' } });
    await handlePush(deliveries([message(1), [dev('2')]]), jobContext(w.deps));
    await handlePush(w.queue.added[0]!.data, jobContext(w.deps));
    assert.deepEqual(w.removed, ['2/default:tok-2']);
    assert.equal(w.sending.size, 0, 'the window is done');
    assert.deepEqual(await w.count('pushes'), { 'webhook bad_token': 1 });
  });

  it('retries a push the provider did not take, with its Retry-After, and sends the same window again', async () => {
    const w = world({ tokens: [token('2')], outcome: { kind: 'retry', reason: 'HTTP 429', retryAfterS: 7 } });
    await handlePush(deliveries([message(1), [dev('2')]]), jobContext(w.deps));
    const flush = w.queue.added[0]!.data;
    await assert.rejects(handlePush(flush, jobContext(w.deps)), (err: unknown) => err instanceof AppError && err.code === 'UNAVAILABLE' && err.retryAfterNamedS === 7);
    // A message arriving meanwhile opens a new window; the retry still sends the first one's.
    await handlePush(deliveries([message(2), [dev('2')]]), jobContext({ ...w.deps, now: () => 1_700_000_200_000 }));
    await assert.rejects(handlePush(flush, jobContext(w.deps)));
    assert.deepEqual(w.sent.map((n) => [n.count, n.message.message_id]), [[1, '1001'], [1, '1001']]);
    assert.equal(w.windows.get('2/default')!.window, '1700000200000');
  });

  it('drops a refused push and a push whose platform has no provider configured', async () => {
    const w = world({ tokens: [token('2'), token('3', 'apns-tok', 'apns')], outcome: { kind: 'refused', status: 400, reason: 'HTTP 400' } });
    await handlePush(deliveries([message(1), [dev('2'), dev('3')]]), jobContext(w.deps));
    for (const a of w.queue.added) await handlePush(a.data, jobContext(w.deps));
    assert.equal(w.sent.length, 1, 'apns is not configured here');
    assert.equal(w.sending.size, 0);
    assert.deepEqual(w.removed, []);
    assert.deepEqual(await w.count('pushes'), { 'webhook refused': 1 });
  });

  it('drops a window whose newest message is older than push.max_age_s when its turn comes, counted as expired', async () => {
    // now is 100 s after the messages: older than a 60 s limit, within a 200 s one.
    for (const [maxAgeMs, sent] of [[60_000, 0], [200_000, 1]] as const) {
      const w = world({ tokens: [token('2')], maxAgeMs });
      await handlePush(deliveries([message(1), [dev('2')]]), jobContext(w.deps));
      await handlePush(w.queue.added[0]!.data, jobContext(w.deps));
      assert.equal(w.sent.length, sent, `limit ${maxAgeMs} ms`);
      assert.deepEqual(await w.count('pushes'), sent ? { 'webhook sent': 1 } : { 'webhook expired': 1 });
      assert.equal(w.sending.size, 0, 'the window is marked sent either way, so it is not taken again');
    }
  });
});
