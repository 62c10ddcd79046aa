import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import { FakeWebhook } from '../support/fake-providers';
import { Fleet } from '../support/fleet';
import { OpenApiValidator } from '../support/openapi';
import { waitFor } from '../support/wait';

const SECRET = 'hooks-secret-0123456789';

describe('send hooks end to end: before_send refuses and replaces, after_send and after_recall arrive signed, at least once (real processes)', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let gate: FakeWebhook;
  let events: FakeWebhook;
  const base = randomUserBase();
  const [alice, bob] = [String(base + 1n), String(base + 2n)];

  before(async () => {
    gate = await new FakeWebhook(SECRET).start('/before-send');
    gate.reply = (body: { messages: { content: string }[] }) => ({
      results: body.messages.map((m) => (m.content.includes('spam') ? { action: 'refuse', reason: 'spam' } : m.content.includes('heck') ? { action: 'replace', content: m.content.replace('heck', '****') } : { action: 'accept' })),
    });
    events = await new FakeWebhook(SECRET).start('/events');
    db = await createTestDatabase();
    fleet = await new Fleet(db.url, {
      IM_HOOKS_BEFORE_SEND_URL: gate.url,
      // A roomy bound: the machine under test is shared; the policy on a timeout has its own test (integration/before-send).
      IM_MESSAGE_SERVICE_REQUEST_TIMEOUT_MS: '12000',
      IM_HOOKS_BEFORE_SEND_TIMEOUT_MS: '3000',
      IM_HOOKS_AFTER_SEND_URL: events.url,
      IM_HOOKS_AFTER_RECALL_URL: events.url,
      IM_HOOKS_EVENTS_TIMEOUT_MS: '1000',
      IM_HOOKS_SECRET: SECRET,
      IM_QUEUE_MAX_BACKOFF_MS: '1000',
    }).startAll(['ingest-api', 'worker-persist', 'worker-delivery', 'worker-push']);
    for (const u of [alice, bob]) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: 'u' })).status, 204);
  });

  after(async () => {
    await fleet?.stop();
    await db?.drop();
    await gate?.close();
    await events?.close();
  });

  const sentEvents = () => events.received.filter((r) => r.body.event === 'after_send').flatMap((r) => r.body.messages.map((m: any) => ({ ...m, event_id: r.body.event_id })));

  it('before_send: a refused word answers 403 naming it; a replaced one is stored and delivered as replaced', async () => {
    const refused = await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: bob, content: 'buy spam now' });
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /before_send hook refused the message: spam/);
    const sent = await fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: bob, content: 'what the heck' });
    assert.equal(sent.status, 202);
    const history = await waitFor('the message in history', async () => {
      const r = await fleet.api.get(`/v1/users/${bob}/history?peer_id=${alice}`);
      return r.body.messages.length > 0 ? r.body.messages : undefined;
    });
    assert.deepEqual(history.map((m: any) => m.content), ['what the ****']);
  });

  it('after_send: each stored message arrives signed, with its content, at least once; a receiver that is down gets them later', async () => {
    await waitFor('the after_send of the accepted message', () => sentEvents().some((m) => m.content === 'what the ****'));
    assert.ok(!sentEvents().some((m) => m.content.includes('spam')), 'a refused send has no after_send');
    events.down = { status: 503 };
    const during = await fleet.api.post('/v1/messages/batch', { messages: [1, 2, 3].map((n) => ({ sender_id: bob, receiver_id: alice, content: `during ${n}` })) });
    assert.equal(during.status, 200);
    await waitFor('refused attempts', () => events.attempts.filter((a) => a.status === 503).length >= 2);
    events.down = undefined;
    const ids = during.body.results.map((r: any) => r.message_id);
    await waitFor('the events after the outage', () => ids.every((id: string) => sentEvents().some((m) => m.message_id === id)), 30_000);
    const doc = new OpenApiValidator();
    for (const r of events.received) assert.deepEqual(doc.checkSchema(r.body.event === 'after_send' ? 'AfterSendEvent' : 'AfterRecallEvent', r.body), []);
    assert.deepEqual(events.refusedSignatures, []);
  });

  it('after_recall: a recall arrives as its event', async () => {
    const m = sentEvents().find((e) => e.content === 'what the ****')!;
    assert.equal((await fleet.api.del(`/v1/messages/${m.message_id}?user_id=${alice}`)).status, 200);
    const got = await waitFor('the after_recall event', () => events.received.find((r) => r.body.event === 'after_recall' && r.body.message_id === m.message_id));
    assert.equal(got.body.sender_id, alice);
    assert.equal(got.body.conversation, m.conversation);
    assert.equal(typeof got.body.recalled_at, 'number');
  });
});
