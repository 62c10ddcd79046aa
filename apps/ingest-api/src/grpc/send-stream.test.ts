import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import type { SendRequest } from '@im/contracts';
import { AppError } from '@im/errors';
import { createLogger } from '@im/logger';
import { createMetrics } from '@im/metrics';
import type { SendResult } from '../send/send.service';
import { GRPC_STATUS } from './server';
import { sendStreamService, type SendFrame, type StreamAnswer } from './send-stream';

/** The server side of one stream as grpc-js hands it over: frames in, answer messages out. */
class FakeCall extends EventEmitter {
  readonly written: { results: StreamAnswer[] }[] = [];
  readonly metadata = new grpc.Metadata();
  paused = false;
  ended = false;
  /** What write() answers: false as a client that stopped reading would make it. */
  writable = true;
  constructor(token = 'tok-0123456789') {
    super();
    this.metadata.set('authorization', `Bearer ${token}`);
  }
  write(m: { results: StreamAnswer[] }): boolean {
    this.written.push(m);
    return this.writable;
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  end() {
    this.ended = true;
  }
  answers(): StreamAnswer[] {
    return this.written.flatMap((w) => w.results);
  }
}

/** A send service whose sendMany calls wait until the test settles them. */
function fakeSend() {
  const calls: { reqs: readonly SendRequest[]; settle(results?: (SendResult | AppError)[]): void }[] = [];
  let seq = 0;
  return {
    calls,
    sendMany(reqs: readonly SendRequest[]): Promise<(SendResult | AppError)[]> {
      return new Promise((resolve) =>
        calls.push({ reqs, settle: (results) => resolve(results ?? reqs.map(() => ({ message_id: String(1000 + ++seq), seq, timestamp: 1 }))) }),
      );
    },
  };
}

const frame = (n: number, extra: Partial<SendFrame> = {}): SendFrame => ({
  correlation_id: `c${n}`,
  sender_id: '1',
  receiver_id: '2',
  group_id: '0',
  content: `hello ${n}`,
  message_type: 'TEXT',
  client_msg_id: '',
  ...extra,
});

function service(maxInFlight = 4) {
  const send = fakeSend();
  const metrics = createMetrics('ingest-api');
  const s = sendStreamService({
    send,
    maxMessageLength: 100,
    authenticate: (h) => {
      if (h !== 'Bearer tok-0123456789') throw new AppError('UNAUTHENTICATED', 'the bearer token is not valid', { reason: 'INVALID_TOKEN' });
    },
    status: GRPC_STATUS,
    maxInFlight,
    log: createLogger('test', 'silent'),
    metrics,
  });
  const open = (call: FakeCall) => s.handler(call as unknown as Parameters<typeof s.handler>[0]);
  return { s, send, metrics, open };
}

describe('SendStream (unit)', () => {
  it('hands the frames of one turn to the send service together, and writes their results in one answer frame', async () => {
    const { send, open } = service(10);
    const call = new FakeCall();
    open(call);
    for (let n = 0; n < 3; n++) call.emit('data', frame(n));
    await turn();
    assert.equal(send.calls.length, 1);
    assert.deepEqual(send.calls[0]!.reqs.map((r) => r.content), ['hello 0', 'hello 1', 'hello 2']);
    send.calls[0]!.settle([{ message_id: '7', seq: 1, timestamp: 5 }, new AppError('NOT_FOUND', 'receiver_id 2 is not a known user', { reason: 'UNKNOWN_USER' }), { message_id: '8', seq: 2, timestamp: 5 }]);
    await turn();
    await turn();
    assert.equal(call.written.length, 1);
    assert.deepEqual(call.written[0]!.results, [
      { correlation_id: 'c0', result: { code: 0, msg: 'OK' }, error_code: '', message_id: '7', timestamp: 5, seq: 1, retry_after_s: 0, reason: '' },
      { correlation_id: 'c1', result: { code: grpc.status.NOT_FOUND, msg: 'receiver_id 2 is not a known user' }, error_code: 'NOT_FOUND', message_id: '0', timestamp: 0, seq: 0, retry_after_s: 0, reason: 'UNKNOWN_USER' },
      { correlation_id: 'c2', result: { code: 0, msg: 'OK' }, error_code: '', message_id: '8', timestamp: 5, seq: 2, retry_after_s: 0, reason: '' },
    ]);
  });

  it('answers a bad frame with its error without calling the send service', async () => {
    const { send, open } = service();
    const call = new FakeCall();
    open(call);
    call.emit('data', frame(1, { sender_id: '0' }));
    call.emit('data', frame(2, { group_id: '9' }));
    call.emit('data', frame(3, { correlation_id: '' }));
    call.emit('data', frame(4, { content: 'x'.repeat(101) }));
    await turn();
    assert.equal(send.calls.length, 0);
    const byId = new Map(call.answers().map((a) => [a.correlation_id, a]));
    assert.match(byId.get('c1')!.result.msg, /sender_id/);
    assert.match(byId.get('c2')!.result.msg, /not both/);
    assert.match(byId.get('')!.result.msg, /correlation_id/);
    assert.match(byId.get('c4')!.result.msg, /content/);
    for (const a of call.answers()) assert.equal(a.error_code, 'INVALID_ARGUMENT');
  });

  it('refuses frames beyond stream_max_in_flight with RESOURCE_EXHAUSTED, and takes frames again once answers went out', async () => {
    const { send, open, metrics } = service(2);
    const call = new FakeCall();
    open(call);
    for (let n = 0; n < 5; n++) call.emit('data', frame(n));
    await turn();
    assert.deepEqual(send.calls[0]!.reqs.length, 2);
    const refused = call.answers();
    assert.deepEqual(refused.map((a) => [a.correlation_id, a.error_code, a.retry_after_s]), [
      ['c2', 'RESOURCE_EXHAUSTED', 1],
      ['c3', 'RESOURCE_EXHAUSTED', 1],
      ['c4', 'RESOURCE_EXHAUSTED', 1],
    ]);
    assert.match(refused[0]!.result.msg, /stream_max_in_flight is 2/);
    assert.match(await metrics.registry.getSingleMetricAsString('im_stream_refusals_total'), /im_stream_refusals_total\{role="ingest-api"\} 3/);
    send.calls[0]!.settle();
    await turn();
    call.emit('data', frame(5));
    await turn();
    assert.equal(send.calls.length, 2, 'room again once the first two are answered');
  });

  it('stops reading frames while the client does not read its answers, and reads again on drain', async () => {
    const { send, open } = service();
    const call = new FakeCall();
    call.writable = false;
    open(call);
    call.emit('data', frame(1));
    await turn();
    send.calls[0]!.settle();
    await turn();
    await turn();
    assert.equal(call.written.length, 1);
    assert.equal(call.paused, true);
    call.writable = true;
    call.emit('drain');
    assert.equal(call.paused, false);
  });

  it('on close answers every frame received, then ends the stream; later streams are refused', async () => {
    const { s, send, open } = service();
    const call = new FakeCall();
    open(call);
    call.emit('data', frame(1));
    await turn();
    const closed = s.close(5000);
    await turn();
    assert.equal(call.paused, true, 'no more frames are read');
    assert.equal(call.ended, false, 'a send in flight holds the stream open');
    call.emit('data', frame(2)); // one that was already on its way
    send.calls[0]!.settle();
    await closed;
    assert.equal(call.ended, true);
    assert.deepEqual(call.answers().map((a) => [a.correlation_id, a.error_code]), [
      ['c2', 'UNAVAILABLE'],
      ['c1', ''],
    ]);
    const late = new FakeCall();
    let status: { code: number } | undefined;
    late.on('error', (e: { code: number }) => (status = e));
    open(late);
    assert.equal(status?.code, grpc.status.UNAVAILABLE);
  });

  it('ends a stream whose token is wrong with UNAUTHENTICATED', () => {
    const { open } = service();
    const call = new FakeCall('wrong-token-000000');
    let status: { code: number; metadata: grpc.Metadata } | undefined;
    call.on('error', (e: { code: number; metadata: grpc.Metadata }) => (status = e));
    open(call);
    assert.equal(status?.code, grpc.status.UNAUTHENTICATED);
    assert.deepEqual(status?.metadata.get('im-error-code'), ['UNAUTHENTICATED']);
  });
});
