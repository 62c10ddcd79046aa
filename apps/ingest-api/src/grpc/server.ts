import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findUp } from '@im/config';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fastSendParsers, sendSchemas } from '@im/contracts';
import { toAppError, type ErrorCode } from '@im/errors';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import { endRequestSpan, startRequestSpan, withContext } from '@im/telemetry';
import { bearerAuth } from '../auth';
import { offlinePullQuery } from '../routes/offline.route';
import { userParams } from '../routes/params';
import { parse } from '../routes/parse';
import type { Services } from '../services';

export const PROTO_FILE = findUp('proto/im_message.proto', dirname(fileURLToPath(import.meta.url)));

/** The contract's error codes as gRPC status codes. */
export const GRPC_STATUS: Record<ErrorCode, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  NOT_FOUND: grpc.status.NOT_FOUND,
  PAYLOAD_TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  INTERNAL: grpc.status.INTERNAL,
};

export const PROTO_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

const TYPES = { TEXT: 'text', IMAGE: 'image', FILE: 'file', VOICE: 'voice' } as const;
const ENUM_OF = { text: 'TEXT', image: 'IMAGE', file: 'FILE', voice: 'VOICE' } as const;

type Req = Record<string, unknown>;
const OK = { code: 0, msg: 'OK' };

/** proto3 has no "absent": empty strings and zero ids mean not given. */
function sendBody(r: Req, kind: 'single' | 'group') {
  return {
    sender_id: r.sender_id,
    ...(kind === 'single' ? { receiver_id: r.receiver_id } : { group_id: r.group_id }),
    content: r.content,
    message_type: TYPES[r.message_type as keyof typeof TYPES] ?? r.message_type,
    ...(r.client_msg_id ? { client_msg_id: r.client_msg_id } : {}),
  };
}

export interface GrpcOptions {
  services: Services;
  tokens: readonly string[];
  host: string;
  port: number;
  maxMessageBytes: number;
  log: Logger;
  metrics: Metrics;
}

/**
 * The seed's MessageService over gRPC: thin adapters over the same application functions as the
 * HTTP routes, with the same validation, auth (metadata `authorization: Bearer <token>`), dedupe
 * and errors (as gRPC status codes).
 */
export async function startGrpcServer(o: GrpcOptions): Promise<{ server: grpc.Server; port: number; close(): Promise<void> }> {
  const definition = protoLoader.loadSync(PROTO_FILE, PROTO_OPTIONS);
  const proto = grpc.loadPackageDefinition(definition) as unknown as { mpim: { MessageService: grpc.ServiceClientConstructor } };
  const authenticate = bearerAuth(o.tokens);
  const { single, group } = sendSchemas(o.services.maxMessageLength);
  const fast = fastSendParsers(o.services.maxMessageLength);

  function unary<T>(name: string, handle: (req: Req) => Promise<T>): grpc.handleUnaryCall<Req, T> {
    return (call, callback) => {
      const end = o.metrics.grpcDuration.startTimer({ method: name });
      // Named by the method's full path in the proto (`package.Service/Method`).
      const path = call.getPath().replace(/^\//, '');
      const traced = startRequestSpan(path, { traceparent: call.metadata.get('traceparent')[0], tracestate: call.metadata.get('tracestate')[0] }, { 'rpc.system': 'grpc', 'rpc.service': path.split('/')[0]!, 'rpc.method': name });
      void withContext(traced?.ctx, async () => {
        try {
          authenticate(call.metadata.get('authorization')[0]);
          const result = await handle(call.request);
          end({ code: 'OK' });
          endRequestSpan(traced?.span, { 'rpc.grpc.status_code': grpc.status.OK }, false);
          callback(null, result);
        } catch (err) {
          const e = toAppError(err);
          if (e.status >= 500) {
            o.metrics.errors.inc({ component: 'grpc', kind: e.code });
            o.log.error({ err, method: name }, 'rpc failed');
          }
          const metadata = new grpc.Metadata();
          metadata.set('im-error-code', e.code);
          end({ code: grpc.status[GRPC_STATUS[e.code]] });
          endRequestSpan(traced?.span, { 'rpc.grpc.status_code': GRPC_STATUS[e.code] }, e.status >= 500, e.message);
          callback({ code: GRPC_STATUS[e.code], details: e.message, metadata }, null);
        }
      });
    };
  }

  const sendAs = async (r: Req, kind: 'single' | 'group') => {
    const raw = sendBody(r, kind);
    const body = kind === 'single' ? { kind, ...(fast.single(raw) ?? parse(single, raw)) } : { kind, ...(fast.group(raw) ?? parse(group, raw)) };
    const sent = await o.services.send.send(body as Parameters<Services['send']['send']>[0]);
    return { result: OK, message_id: sent.message_id, timestamp: String(sent.timestamp), seq: String(sent.seq) };
  };

  const server = new grpc.Server({ 'grpc.max_receive_message_length': o.maxMessageBytes });
  server.addService(proto.mpim.MessageService.service, {
    SendMessage: unary('SendMessage', (r) => sendAs(r, r.group_id && r.group_id !== '0' ? 'group' : 'single')),
    SendGroupMessage: unary('SendGroupMessage', (r) => sendAs(r, 'group')),
    PullOfflineMessage: unary('PullOfflineMessage', async (r) => {
      // The HTTP pull's parsers; proto3 sends 0 for a field left out, which means "not given" here.
      const { user_id: userId } = parse(userParams, { user_id: String(r.user_id) });
      const q = parse(offlinePullQuery, {
        limit: r.limit && String(r.limit) !== '0' ? String(r.limit) : undefined,
        last_message_id: r.last_message_id && String(r.last_message_id) !== '0' ? String(r.last_message_id) : undefined,
      });
      const page = await o.services.pullOffline(userId, q.last_message_id, q.limit);
      return {
        result: OK,
        has_more: page.has_more,
        messages: page.messages.map((m) => ({
          id: m.id,
          message_id: m.message_id,
          seq: String(m.seq),
          sender_id: m.sender_id,
          sender_name: m.sender_name ?? '',
          group_id: m.group_id ?? '0',
          group_name: m.group_name ?? '',
          content: m.content,
          message_type: ENUM_OF[m.message_type],
          created_at: String(m.created_at),
        })),
      };
    }),
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${o.host}:${o.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 10_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

