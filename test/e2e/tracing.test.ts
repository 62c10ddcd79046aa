import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { RowDataPacket } from 'mysql2/promise';
import { PROTO_FILE, PROTO_OPTIONS } from '../../apps/ingest-api/src/grpc/server';
import { randomUserBase, TEST_TOKEN } from '../support/env';
import type { Fleet } from '../support/fleet';
import { GatewaySimulator } from '../support/gateway';
import { OtlpReceiver, SPAN_KIND, type ReceivedSpan } from '../support/otlp-receiver';
import { suiteFleet, type SuiteFleet } from '../support/suite-fleet';
import { waitFor } from '../support/wait';

/**
 * One message, one trace, across the real processes: every role exports OTLP/JSON to a receiver
 * run here; a send made with a traceparent of the test's own is followed from its POST to its
 * PUBLISH and its offline row, hop by hop, through the BullMQ queues between the processes.
 */
describe('tracing across the fleet (OTEL_* on)', () => {
  const receiver = new OtlpReceiver();
  let suite: SuiteFleet;
  let fleet: Fleet;
  let gateway: GatewaySimulator;
  const base = randomUserBase();
  const id = (n: number) => String(base + BigInt(n));
  const [sender, online, member, offline] = [id(1), id(2), id(3), id(4)];
  const group = id(500);
  /** A content no span may hold. */
  const CONTENT = `body-${randomBytes(6).toString('hex')}`;

  before(async () => {
    await receiver.start();
    suite = await suiteFleet(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      IM_LOG_LEVEL: 'debug',
    });
    fleet = suite.fleet;
    for (const u of [sender, online, member, offline]) assert.equal((await fleet.api.put(`/v1/users/${u}`, { name: `u${u.slice(-1)}` })).status, 204);
    assert.equal((await fleet.api.put(`/v1/groups/${group}`, { name: 'traced' })).status, 204);
    assert.equal((await fleet.api.post(`/v1/groups/${group}/members`, { add: [sender, member, offline] })).status, 200);
    gateway = new GatewaySimulator(fleet.api);
    await gateway.connect([online, member]);
  });

  after(async () => {
    await gateway?.close();
    await suite?.close();
    await receiver.close();
  });

  /**
   * The spans of a trace once it holds `last` and every span's parent (a span is exported when it
   * ends, and a parent ends after its children, often in a later export).
   */
  const complete = (c: { traceId: string; spanId: string }, last: RegExp[]) => () => {
    const t = receiver.trace(c.traceId);
    const ids = new Set([c.spanId, ...t.map((s) => s.spanId)]);
    return last.every((name) => t.some((s) => name.test(s.name))) && t.every((s) => s.parentSpanId !== undefined && ids.has(s.parentSpanId)) ? t : undefined;
  };

  /** A traceparent of the test's own: the trace id to follow, and the span the request's span must be the child of. */
  const caller = () => ({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') });

  function one(spans: ReceivedSpan[], name: RegExp, parent: ReceivedSpan | { spanId: string }, kind?: number): ReceivedSpan {
    const found = spans.filter((s) => name.test(s.name) && s.parentSpanId === parent.spanId);
    assert.equal(found.length, 1, `one span ${name} under ${parent.spanId}; the trace holds: ${spans.map((s) => `${s.service}:${s.name}(${s.spanId}<-${s.parentSpanId})`).join(', ')}`);
    if (kind !== undefined) assert.equal(found[0]!.kind, kind, `${found[0]!.name} kind`);
    return found[0]!;
  }

  /** The round a consumer span links to: a root span of its own trace, linked back to the message's producer span. */
  async function roundOf(consumer: ReceivedSpan, producer: ReceivedSpan, name: RegExp): Promise<ReceivedSpan> {
    assert.equal(consumer.links.length, 1, `${consumer.name} links to its round`);
    const round = await waitFor(`the round span of ${consumer.name}`, () => receiver.spans.find((s) => s.spanId === consumer.links[0]!.spanId));
    assert.match(round.name, name);
    assert.notEqual(round.traceId, consumer.traceId, 'a round is a trace of its own');
    assert.equal(round.parentSpanId, undefined, 'a round is a root span');
    assert.ok(round.links.some((l) => l.traceId === producer.traceId && l.spanId === producer.spanId), `${round.name} links to the message's producer span`);
    assert.equal(round.service, consumer.service);
    return round;
  }

  function logLines(role: Parameters<Fleet['logs']>[0]): Record<string, unknown>[] {
    return fleet
      .logs(role)
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  it('follows a single-chat message from POST to its PUBLISH as one trace, and its rounds by their links', async () => {
    const c = caller();
    const sent = await fleet.api.call('POST', '/v1/messages', { sender_id: sender, receiver_id: online, content: CONTENT, client_msg_id: 'tr-1' }, { traceparent: `00-${c.traceId}-${c.spanId}-01` });
    assert.equal(sent.status, 202);
    await gateway.waitForCount(online, 1);
    const spans = await waitFor('the trace up to the PUBLISH span of the message', complete(c, [/^PUBLISH$/]));

    const request = one(spans, /^POST \/v1\/messages$/, c, SPAN_KIND.server);
    assert.equal(request.service, 'im-ingest-api');
    assert.equal(request.attributes['http.response.status_code'], 202);
    const admit = one(spans, /^admit$/, request);
    assert.equal(admit.attributes['im.message_id'], sent.body.message_id);
    const persistSend = one(spans, /^im\.persist(\.s\d+)? send$/, admit, SPAN_KIND.producer);
    assert.equal(persistSend.service, 'im-ingest-api');
    const persisted = one(spans, /^im\.persist(\.s\d+)? process$/, persistSend, SPAN_KIND.consumer);
    assert.equal(persisted.service, 'im-worker-persist');
    assert.equal(persisted.attributes['im.message_id'], sent.body.message_id);
    const deliverSend = one(spans, /^im\.deliver send$/, persisted, SPAN_KIND.producer);
    const delivered = one(spans, /^im\.deliver(\.s\d+)? process$/, deliverSend, SPAN_KIND.consumer);
    assert.equal(delivered.service, 'im-worker-delivery');
    const publish = one(spans, /^PUBLISH$/, delivered, SPAN_KIND.producer);
    assert.equal(publish.status, 0, 'the PUBLISH succeeded');
    assert.ok(!spans.some((s) => s.name === 'offline rows'), 'an online receiver gets no offline row');

    // The admission's micro-batch and each consumer's round are traces of their own, linked.
    const batch = await waitFor('the admission batch span linked to the send', () => receiver.spans.find((s) => /^admit batch/.test(s.name) && s.links.some((l) => l.spanId === admit.spanId)));
    assert.equal(batch.service, 'im-ingest-api');
    const persistRound = await roundOf(persisted, persistSend, /^im\.persist(\.s\d+)? round$/);
    const deliverRound = await roundOf(delivered, deliverSend, /^im\.deliver(\.s\d+)? round$/);

    // MySQL and Redis calls, through the official instrumentations, under the work they serve.
    const inserts = await waitFor('the message_history INSERT span', () => {
      const insert = receiver.spans.find((s) => s.name === 'message_history insert' && s.links.some((l) => l.spanId === persistRound.spanId));
      const sql = insert && receiver.trace(insert.traceId).filter((s) => s.attributes['db.system.name'] === 'mysql');
      return sql?.some((s) => /^INSERT IGNORE INTO message_history/i.test(String(s.attributes['db.query.text']))) ? sql : undefined;
    });
    assert.ok(inserts.every((s) => s.kind === SPAN_KIND.client));
    const redisOfRound = receiver.trace(persistRound.traceId).filter((s) => s.attributes['db.system.name'] === 'redis');
    assert.ok(redisOfRound.length > 0, 'the round\'s Redis commands (its jobs completed, the delivery job added) are spans of the round');
    const redisOfAdmission = receiver.trace(batch.traceId).filter((s) => s.attributes['db.system.name'] === 'redis');
    assert.ok(redisOfAdmission.some((s) => s.parentSpanId === batch.spanId), 'the admission script runs under the admission batch');
    const publishCommand = receiver.trace(deliverRound.traceId).filter((s) => s.attributes['db.system.name'] === 'redis');
    assert.ok(publishCommand.length > 0, 'the delivery round\'s Redis commands are traced');

    // Log correlation: the persist handler's line of that round carries the round's trace id.
    await waitFor('the persisted log line of the round', () => logLines('worker-persist').some((l) => l.msg === 'persisted' && l.trace_id === persistRound.traceId));
    const line = logLines('worker-persist').find((l) => l.msg === 'persisted' && l.trace_id === persistRound.traceId)!;
    assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
  });

  it('follows a group message through fan-out to its PUBLISH and its offline row as one trace', async () => {
    const c = caller();
    const sent = await fleet.api.call('POST', '/v1/group-messages', { sender_id: sender, group_id: group, content: `${CONTENT} group`, client_msg_id: 'tr-g1' }, { traceparent: `00-${c.traceId}-${c.spanId}-01` });
    assert.equal(sent.status, 202);
    await gateway.waitForCount(member, 1);
    await waitFor('the offline row of the offline member', async () => {
      const [rows] = await suite.db.pool.query<RowDataPacket[]>('SELECT 1 FROM offline_message WHERE user_id = ? AND message_id = ?', [offline, sent.body.message_id]);
      return rows.length === 1;
    });
    const spans = await waitFor('the trace up to the PUBLISH and offline rows spans of the group message', complete(c, [/^PUBLISH$/, /^offline rows$/]));

    const request = one(spans, /^POST \/v1\/group-messages$/, c, SPAN_KIND.server);
    const admit = one(spans, /^admit$/, request);
    const persistSend = one(spans, /^im\.persist(\.s\d+)? send$/, admit, SPAN_KIND.producer);
    const persisted = one(spans, /^im\.persist(\.s\d+)? process$/, persistSend, SPAN_KIND.consumer);
    const fanoutSend = one(spans, /^im\.fanout send$/, persisted, SPAN_KIND.producer);
    const fannedOut = one(spans, /^im\.fanout(\.s\d+)? process$/, fanoutSend, SPAN_KIND.consumer);
    assert.equal(fannedOut.service, 'im-worker-fanout');
    assert.equal(fannedOut.links.length, 0, 'a job taken alone has no round');
    const deliverSend = one(spans, /^im\.deliver send$/, fannedOut, SPAN_KIND.producer);
    const delivered = one(spans, /^im\.deliver(\.s\d+)? process$/, deliverSend, SPAN_KIND.consumer);
    one(spans, /^PUBLISH$/, delivered, SPAN_KIND.producer);
    const stored = one(spans, /^offline rows$/, delivered, SPAN_KIND.client);
    assert.equal(stored.attributes['db.collection.name'], 'offline_message');
    const services = new Set(spans.map((s) => s.service));
    assert.deepEqual([...services].sort(), ['im-ingest-api', 'im-worker-delivery', 'im-worker-fanout', 'im-worker-persist']);

    // A job taken alone runs in its message's span: the fan-out's log line carries the message's trace id.
    await waitFor('the fanned-out log line in the message trace', () => logLines('worker-fanout').some((l) => l.msg === 'fanned out' && l.trace_id === c.traceId));
    // The member list is read in the message's trace: a job taken alone runs in its span.
    assert.ok(spans.some((s) => s.attributes['db.system.name'] === 'redis' && s.parentSpanId === fannedOut.spanId), 'the fan-out\'s Redis calls are children of its message span');
    assert.deepEqual(receiver.refused, []);
  });

  it('continues a gRPC caller\'s trace: the rpc span, the admission, the persist job', async () => {
    const c = caller();
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_FILE, PROTO_OPTIONS)) as any;
    const client = new pkg.mpim.MessageService(`127.0.0.1:${fleet.grpcPort}`, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${TEST_TOKEN}`);
    metadata.set('traceparent', `00-${c.traceId}-${c.spanId}-01`);
    try {
      const answer = await new Promise<any>((resolve, reject) =>
        client.SendMessage({ sender_id: sender, receiver_id: online, content: CONTENT, client_msg_id: 'tr-grpc' }, metadata, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))),
      );
      assert.equal(answer.result.code, 0);
    } finally {
      client.close();
    }
    const spans = await waitFor('the trace up to the persist job of the rpc', complete(c, [/^im\.persist(\.s\d+)? send$/]));
    const rpc = one(spans, /^[\w.]+\.MessageService\/SendMessage$/, c, SPAN_KIND.server);
    assert.equal(rpc.attributes['rpc.system'], 'grpc');
    assert.equal(rpc.attributes['rpc.grpc.status_code'], 0);
    const admit = one(spans, /^admit$/, rpc);
    one(spans, /^im\.persist(\.s\d+)? send$/, admit, SPAN_KIND.producer);
  });

  it('puts no message content into any span: statements without values, commands by name', () => {
    assert.ok(receiver.spans.length > 0);
    for (const s of receiver.spans) {
      for (const [key, value] of Object.entries(s.attributes)) assert.ok(!String(value).includes(CONTENT), `${s.service} ${s.name} ${key} holds a message's content`);
    }
  });
});
