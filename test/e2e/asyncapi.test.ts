import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { messageEvent, notificationEvent, readEvent, recallEvent, receiptEvent } from '@im/contracts';
import { AsyncApiValidator, asyncApiText, loadAsyncApi } from '../support/asyncapi';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import { Fleet } from '../support/fleet';
import { GatewaySimulator, type Received } from '../support/gateway';
import { waitFor } from '../support/wait';

/** Errors and warnings of the AsyncAPI parser (its Spectral ruleset); hints and infos pass. */
async function lint(text: string): Promise<string[]> {
  const { diagnostics } = await new Parser().parse(text);
  return diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.severity === 0 ? 'error' : 'warning'} ${d.code}: ${d.message} at ${d.path.join('/')}`);
}

describe('AsyncAPI: docs/asyncapi.yaml against what the fleet publishes', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let gateway: GatewaySimulator;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const [ann, bob, cy] = [id(1), id(2), id(3)];
  const group = id(100);

  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url, { IM_RECEIPTS_NOTIFY_PEER: 'true' }).startAll(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
    for (const u of [ann, bob, cy]) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: `n${u.slice(-1)}` })).status, 204);
    await fleet.api.put(`/v1/groups/${group}`, { name: 'async' });
    await fleet.api.post(`/v1/groups/${group}/members`, { add: [ann, bob, cy] });
    gateway = new GatewaySimulator(fleet.api);
    await gateway.connect([ann, bob, cy]);
    await gateway.subscribe([`group:${group}`, 'system:notification']);
  });

  after(async () => {
    await gateway?.close();
    await fleet?.stop();
    await db?.drop();
  });

  it('is a valid AsyncAPI 3 document: the AsyncAPI parser finds no error or warning, and finds them in a broken copy', async () => {
    assert.equal(loadAsyncApi().asyncapi, '3.0.0');
    assert.deepEqual(await lint(asyncApiText()), []);
    const broken = asyncApiText().replace("channel: { $ref: '#/channels/group' }", "channel: { $ref: '#/channels/nowhere' }").replace('action: send', 'action: shout');
    const problems = await lint(broken);
    assert.ok(problems.some((p) => p.startsWith('error')), problems.join('\n'));
  });

  it('every event the fleet publishes, on every documented channel, matches the document', async () => {
    const single = await fleet.api.post('/v1/messages', { sender_id: ann, receiver_id: bob, content: '你好 👋', client_msg_id: 'aa-1' });
    const image = await fleet.api.post('/v1/messages', { sender_id: bob, receiver_id: ann, content: 'https://example.test/cat.png', message_type: 'image' });
    const grouped = await fleet.api.post('/v1/group-messages', { sender_id: ann, group_id: group, content: 'hello group' });
    for (const r of [single, image, grouped]) assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal((await fleet.api.post('/v1/notifications', { content: 'maintenance at 02:00' })).status, 202);
    await gateway.waitForCount(bob, 2);
    await gateway.waitForCount(cy, 1);
    await gateway.waitForCount(ann, 1);
    // bob reads ann's message on his phone: a read event for his other devices, a receipt for ann.
    assert.deepEqual((await fleet.api.post('/v1/acks', { user_id: bob, message_ids: [single.body.message_id], status: 'read', device_id: 'phone' })).body, { updated: 1 });
    // A recall needs the message in history: until then it is 404 UNKNOWN_MESSAGE (retry).
    for (const m of [single.body, grouped.body]) {
      await waitFor('the recall', async () => {
        const r = await fleet.api.del(`/v1/messages/${m.message_id}?user_id=${ann}`);
        return r.status === 200 ? r : undefined;
      });
    }
    const heard = (pred: (r: Received) => boolean, what: string) => waitFor(what, () => gateway.received.find(pred));
    await heard((r) => r.channel === `user:${bob}` && r.payload.event === 'recall', 'the single-chat recall on user:{bob}');
    await heard((r) => r.channel === `group:${group}` && r.payload.event === 'recall', 'the group recall on group:{group}');
    await heard((r) => r.channel === 'system:notification', 'the notification');
    await heard((r) => r.channel === `user:${bob}` && r.payload.event === 'read', 'the read event on user:{bob}');
    await heard((r) => r.channel === `user:${ann}` && r.payload.event === 'receipt', 'the receipt on user:{ann}');

    assert.deepEqual(gateway.invalid, []);
    const v = new AsyncApiValidator();
    for (const r of gateway.received) assert.deepEqual(v.check(r.channel, r.raw), [], r.raw);
    assert.deepEqual([...v.seen].sort(), v.messages().sort(), 'every documented message was received and checked');
    assert.ok(gateway.received.some((r) => r.payload.group_id === group && r.payload.event === 'message' && r.channel === `user:${cy}`), 'a group message on a member channel');
  });

  it('the event builders of packages/contracts give payloads the document accepts', () => {
    const v = new AsyncApiValidator();
    const fields = { message_id: '914986015951831040', seq: 3, sender_id: ann, content: 'x', message_type: 'voice' as const, created_at: 1_764_450_465_821 };
    assert.deepEqual(v.check(`user:${bob}`, messageEvent({ ...fields, receiver_id: bob, group_id: null, client_msg_id: null })), []);
    assert.deepEqual(v.check(`user:${bob}`, messageEvent({ ...fields, receiver_id: null, group_id: group, client_msg_id: 'c.1' })), []);
    assert.deepEqual(v.check(`user:${bob}`, recallEvent({ message_id: fields.message_id, seq: 3, sender_id: ann, receiver_id: bob, group_id: null }, 5)), []);
    assert.deepEqual(v.check(`group:${group}`, recallEvent({ message_id: fields.message_id, seq: 3, sender_id: ann, receiver_id: null, group_id: group }, 5)), []);
    assert.deepEqual(v.check('system:notification', notificationEvent('hi', 5)), []);
    assert.deepEqual(v.check(`user:${bob}`, messageEvent({ ...fields, receiver_id: bob, group_id: null, client_msg_id: null, sender_device_id: 'phone' })), []);
    assert.deepEqual(v.check(`user:${bob}`, readEvent(bob, `s:${ann}:${bob}`, 4, 'default', 5)), []);
    assert.deepEqual(v.check(`user:${ann}`, receiptEvent(bob, `s:${ann}:${bob}`, 4, 5)), []);
    assert.deepEqual(v.check(`user:${ann}`, readEvent(bob, `g:${group}`, 4, 'tablet', 5)), []);
  });

  it('fails a payload or a channel that drifted from the document', () => {
    const v = new AsyncApiValidator();
    const good = JSON.parse(messageEvent({ message_id: '12', seq: 1, sender_id: ann, receiver_id: bob, group_id: null, content: 'x', message_type: 'text', created_at: 5, client_msg_id: null }));
    const check = (change: (p: Record<string, unknown>) => void, channel = `user:${bob}`) => {
      const p = structuredClone(good);
      change(p);
      return v.check(channel, JSON.stringify(p)).join();
    };
    assert.equal(check(() => {}), '');
    assert.match(check((p) => delete p.seq), /must have required property 'seq'/);
    assert.match(check((p) => (p.device_id = 'd1')), /must NOT have additional properties \(device_id\)/);
    assert.match(check((p) => (p.message_id = 12)), /\/message_id must be string/);
    assert.match(check((p) => (p.group_id = group)), /must match exactly one schema in oneOf/);
    assert.match(check((p) => (p.event = 'typing')), /event "typing" is not documented on user:\{user_id\}/);
    assert.match(check(() => {}, `group:${group}`), /event "message" is not documented on group:\{group_id\}/);
    assert.match(check(() => {}, `device:${bob}`), /no documented channel has this address/);
    assert.match(v.check(`user:${bob}`, 'not json').join(), /not JSON/);
    // The check is the document's: the same payload against a changed schema fails.
    const doc = loadAsyncApi();
    (doc.components.schemas as any).MessageEvent.properties.seq = { type: 'string' };
    assert.match(new AsyncApiValidator(doc).check(`user:${bob}`, JSON.stringify(good)).join(), /\/seq must be string/);
  });
});
