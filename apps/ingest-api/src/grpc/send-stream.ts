import * as grpc from '@grpc/grpc-js';
import { fastSendParsers, sendSchemas, type SendRequest } from '@im/contracts';
import { AppError, invalidArgument, toAppError, type ErrorCode } from '@im/errors';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import { parse } from '../routes/parse';
import type { SendResult } from '../send/send.service';
import type { Services } from '../services';

/** A SendFrame as proto-loader gives it (keepCase, longs and enums as strings, defaults filled in). */
export interface SendFrame {
  correlation_id: string;
  sender_id: string;
  receiver_id: string;
  group_id: string;
  content: string;
  message_type: string | number;
  client_msg_id: string;
  /** The sender's device it was typed on; empty: the default device. */
  device_id?: string;
}

/**
 * One SendResult of an answer frame (proto/im_message.proto). timestamp and seq are below 2^53 and
 * go to the encoder as numbers: an int64 given as a string is parsed into a Long first
 * (Long.fromString was 1.2 % of ingest's CPU in the profile of streamed sends).
 */
export interface StreamAnswer {
  correlation_id: string;
  result: { code: number; msg: string };
  error_code: string;
  message_id: string;
  timestamp: number;
  seq: number;
  retry_after_s: number;
  reason: string;
}

type Call = grpc.ServerDuplexStream<SendFrame, { results: StreamAnswer[] }>;

export interface SendStreamOptions {
  send: Pick<Services['send'], 'sendMany'>;
  maxMessageLength: number;
  /** Throws UNAUTHENTICATED for a bad `authorization` metadata value (the unary calls' check). */
  authenticate(header: unknown): void;
  /** The contract's error codes as gRPC status codes (server.ts). */
  status: Record<ErrorCode, grpc.status>;
  /** message_service.stream_max_in_flight: sends of one stream in flight. */
  maxInFlight: number;
  log: Logger;
  metrics: Metrics;
}

const TYPES: Record<string, string> = { TEXT: 'text', IMAGE: 'image', FILE: 'file', VOICE: 'voice' };
const MAX_CORRELATION_ID = 64;
const given = (id: string) => id !== '' && id !== '0';

/**
 * The gateway link: MessageStream.SendStream, a bidirectional stream whose frames are sends and
 * whose answers are their results. A thin adapter like the unary calls: the frames a stream
 * received in one turn of the event loop go to the send service together (sendMany, the path of
 * POST /v1/messages and the batch route), so they join the same admission micro-batches as every
 * other send; the results completed in one turn go back in one answer frame. Each stream holds at
 * most `maxInFlight` sends; a frame beyond that is answered RESOURCE_EXHAUSTED at once, and while
 * the client does not read its answers the stream stops reading frames (HTTP/2 flow control).
 */
export function sendStreamService(o: SendStreamOptions) {
  const { single, group } = sendSchemas(o.maxMessageLength);
  const fast = fastSendParsers(o.maxMessageLength);
  const links = new Set<StreamLink>();
  let closing = false;

  /** A frame as the send request POST /v1/messages (or /v1/group-messages) would take, or its error. */
  function requestOf(f: SendFrame): SendRequest {
    const raw = {
      sender_id: f.sender_id,
      ...(given(f.group_id) ? { group_id: f.group_id } : { receiver_id: f.receiver_id }),
      content: f.content,
      message_type: TYPES[f.message_type as string] ?? f.message_type,
      ...(f.client_msg_id ? { client_msg_id: f.client_msg_id } : {}),
      ...(f.device_id ? { device_id: f.device_id } : {}),
    };
    if (given(f.group_id)) {
      if (given(f.receiver_id)) throw invalidArgument('a frame carries receiver_id (a single send) or group_id (a group send), not both');
      return { kind: 'group', ...(fast.group(raw) ?? parse(group, raw)) };
    }
    return { kind: 'single', ...(fast.single(raw) ?? parse(single, raw)) };
  }

  function accepted(correlationId: string, r: SendResult): StreamAnswer {
    return { correlation_id: correlationId, result: { code: 0, msg: 'OK' }, error_code: '', message_id: r.message_id, timestamp: r.timestamp, seq: r.seq, retry_after_s: 0, reason: '' };
  }

  function refused(correlationId: string, e: AppError): StreamAnswer {
    return {
      correlation_id: correlationId,
      result: { code: o.status[e.code], msg: e.message },
      error_code: e.code,
      message_id: '0',
      timestamp: 0,
      seq: 0,
      retry_after_s: e.retryAfterS ?? (e.code === 'UNAVAILABLE' ? 1 : 0),
      reason: e.reason,
    };
  }

  /** One open stream: its sends in flight, the frames of this turn, the answers not yet written. */
  class StreamLink {
    /** Frames handed to the send service and not answered yet. */
    inFlight = 0;
    private frames: { correlationId: string; req: SendRequest }[] = [];
    private answers: StreamAnswer[] = [];
    private scheduled = false;
    private clientDone = false;
    private ended = false;
    private writable = true;
    private finished!: () => void;
    readonly done = new Promise<void>((resolve) => (this.finished = resolve));

    constructor(private readonly call: Call) {}

    receive(f: SendFrame): void {
      const correlationId = typeof f.correlation_id === 'string' ? f.correlation_id : '';
      if (this.ended) return; // after the stream's end nothing can be answered: not received (see the proto)
      if (correlationId === '' || correlationId.length > MAX_CORRELATION_ID) {
        this.answer(refused(correlationId.slice(0, MAX_CORRELATION_ID), invalidArgument(`correlation_id must be 1 to ${MAX_CORRELATION_ID} characters, got ${correlationId.length}`, 'INVALID_FIELD')));
      } else if (closing) {
        this.answer(refused(correlationId, new AppError('UNAVAILABLE', 'ingest is shutting down; nothing was accepted, send again on a new stream', { reason: 'SHUTTING_DOWN' })));
      } else if (this.inFlight >= o.maxInFlight) {
        o.metrics.streamRefusals.inc();
        this.answer(
          refused(
            correlationId,
            new AppError('RESOURCE_EXHAUSTED', `this stream has ${this.inFlight} sends in flight, message_service.stream_max_in_flight is ${o.maxInFlight}; nothing was accepted, send again once answers come back`, { reason: 'STREAM_BACKLOG', retryAfterS: 1 }),
          ),
        );
      } else {
        try {
          this.frames.push({ correlationId, req: requestOf(f) });
          this.inFlight++;
          this.schedule();
        } catch (err) {
          this.answer(refused(correlationId, toAppError(err)));
        }
      }
    }

    /** The client half-closed: end once every frame is answered. */
    clientEnded(): void {
      this.clientDone = true;
      this.schedule();
    }

    /** Ingest is stopping: read no more frames, answer those received, then end the stream. */
    shutdown(): void {
      this.call.pause();
      this.schedule();
    }

    /** The client went away (cancelled): sends in flight finish, their answers have nowhere to go. */
    cancelled(): void {
      this.ended = true;
      this.frames = [];
      this.answers = [];
      this.finish();
    }

    private answer(a: StreamAnswer): void {
      this.answers.push(a);
      this.schedule();
    }

    private schedule(): void {
      if (this.scheduled || this.ended) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    }

    /** Once per turn: this turn's frames to the send service together, the answers ready in one frame. */
    private flush(): void {
      this.scheduled = false;
      if (this.ended) return;
      if (this.frames.length > 0) {
        const batch = this.frames;
        this.frames = [];
        void this.submit(batch);
      }
      if (this.answers.length > 0 && this.writable) {
        const results = this.answers;
        this.answers = [];
        if (!this.call.write({ results })) {
          // The client reads its answers slower than it sends: stop reading frames until it catches up.
          this.writable = false;
          this.call.pause();
          this.call.once('drain', () => {
            this.writable = true;
            if (!closing) this.call.resume();
            this.schedule();
          });
        }
      }
      if ((this.clientDone || closing) && this.inFlight === 0 && this.answers.length === 0) {
        this.ended = true;
        this.call.end();
        this.finish();
      }
    }

    private async submit(batch: { correlationId: string; req: SendRequest }[]): Promise<void> {
      let results: (SendResult | AppError)[];
      try {
        results = await o.send.sendMany(batch.map((b) => b.req));
      } catch (err) {
        const e = toAppError(err);
        if (e.code === 'INTERNAL') o.log.error({ err }, 'stream sends failed');
        results = batch.map(() => e);
      }
      this.inFlight -= batch.length;
      if (this.ended) return;
      batch.forEach((b, i) => {
        const r = results[i]!;
        this.answers.push(r instanceof AppError ? refused(b.correlationId, r) : accepted(b.correlationId, r));
      });
      this.schedule();
    }

    private finish(): void {
      if (!links.has(this)) return;
      links.delete(this);
      o.metrics.streamsOpen.dec();
      this.finished();
    }

    track(): void {
      links.add(this);
      o.metrics.streamsOpen.inc();
    }
  }

  const handler: grpc.handleBidiStreamingCall<SendFrame, { results: StreamAnswer[] }> = (call) => {
    const fail = (e: AppError) => {
      const metadata = new grpc.Metadata();
      metadata.set('im-error-code', e.code);
      call.emit('error', { code: o.status[e.code], details: e.message, metadata });
    };
    try {
      o.authenticate(call.metadata.get('authorization')[0]);
    } catch (err) {
      return fail(toAppError(err));
    }
    if (closing) return fail(new AppError('UNAVAILABLE', 'ingest is shutting down; open the stream on another ingest process', { reason: 'SHUTTING_DOWN' }));
    const link = new StreamLink(call);
    link.track();
    call.on('data', (f: SendFrame) => link.receive(f));
    call.on('end', () => link.clientEnded());
    call.on('cancelled', () => link.cancelled());
    call.on('error', (err: Error) => {
      o.log.debug({ err: err.message }, 'send stream failed');
      link.cancelled();
    });
  };

  return {
    handler,
    /** Streams open now. */
    get open(): number {
      return links.size;
    },
    /** Stops every stream cleanly: each frame received is answered, then the stream ends (status OK). */
    async close(withinMs: number): Promise<void> {
      closing = true;
      const all = [...links];
      for (const link of all) link.shutdown();
      // A client that stopped reading its answers cannot be waited for without end: the server's
      // shutdown then cuts its stream (its sends in flight finish; a resend finds them by client_msg_id).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(all.map((l) => l.done)), new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)))]);
      clearTimeout(timer);
      if (links.size > 0) o.log.warn({ streams: links.size }, 'send streams whose clients did not read their answers were not ended cleanly');
    },
  };
}
