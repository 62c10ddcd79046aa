import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { findUp } from '@im/config';
import { toAppError, type AppError, type ErrorCode } from '@im/errors';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import type { ProcessHealth } from '@im/worker-kit';
import { endRequestSpan, startRequestSpan, withContext } from '@im/telemetry';
import { bearerAuth } from '../auth';
import { sendStreamService } from './send-stream';
import type { Services } from '../services';
import { deviceRpcs } from './device-rpcs';
import { directoryRpcs } from './directory-rpcs';
import { HEALTH_PROTO, readinessHealth } from './health';
import { inboxRpcs } from './inbox-rpcs';
import { legacyRpcs } from './legacy-rpcs';
import { presenceRpcs } from './presence-rpcs';
import { readRpcs } from './read-rpcs';
import { sendRpcs } from './send-rpcs';
import type { Req } from './wire';

/** The folder of the project's .proto files (import path of grpcurl and protoc). */
export const PROTO_DIR = findUp('proto', dirname(fileURLToPath(import.meta.url)));
/** im.message.v1: the versioned protocol, every operation of the HTTP API. */
export const PROTO_V1 = 'im/message/v1/message.proto';
/** The seed's mpim protocol (three RPCs), still served for its clients; deprecated. */
export const PROTO_LEGACY = 'im_message.proto';
export const PROTO_FILE = `${PROTO_DIR}/${PROTO_LEGACY}`;
export const V1_SERVICE = 'im.message.v1.MessageService';
export const LEGACY_SERVICE = 'mpim.MessageService';
/** The gateway link: one send per frame (send-stream.ts). */
export const STREAM_SERVICE = 'mpim.MessageStream';

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

/**
 * The trailers of a failed call (CONTRACT.md section 2): the contract's code and reason, and on
 * UNAVAILABLE and RESOURCE_EXHAUSTED the wait before a retry as gRPC's server pushback (gRFC A6),
 * which a client with a retry policy honours.
 */
export function errorTrailers(e: AppError): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('im-error-code', e.code);
  metadata.set('im-error-reason', e.reason);
  if (e.retryAfterS !== undefined) metadata.set('grpc-retry-pushback-ms', String(e.retryAfterS * 1000));
  return metadata;
}

export const PROTO_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_DIR] };

/** The RPC handlers of one room: plain functions of the request, over the same Services as the HTTP routes. */
export type Rpcs = Record<string, (req: Req) => Promise<object>>;

/** Every service this server offers, in one package definition (what reflection describes). */
export function loadProtos(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([PROTO_V1, PROTO_LEGACY, HEALTH_PROTO.file], { ...PROTO_OPTIONS, includeDirs: [PROTO_DIR, HEALTH_PROTO.dir] });
}

export interface GrpcOptions {
  services: Services;
  tokens: readonly string[];
  host: string;
  port: number;
  maxMessageBytes: number;
  /** message_service.stream_max_in_flight (send-stream.ts). */
  streamMaxInFlight: number;
  log: Logger;
  metrics: Metrics;
  /** The process's readiness, which grpc.health.v1 reports. */
  health: ProcessHealth;
}

/**
 * The gRPC API: im.message.v1.MessageService (every operation of the HTTP API) and the seed's
 * mpim.MessageService, both thin adapters over the same application functions and parsers as
 * the HTTP routes, with the same auth (metadata `authorization: Bearer <token>`), dedupe and
 * errors (as gRPC status codes); beside them grpc.health.v1.Health, following the process's
 * readiness, and server reflection (v1 and v1alpha).
 */
export async function startGrpcServer(o: GrpcOptions): Promise<{ server: grpc.Server; port: number; close(): Promise<void> }> {
  const definition = loadProtos();
  const authenticate = bearerAuth(o.tokens);

  function unary(name: string, handle: (req: Req) => Promise<object>): grpc.handleUnaryCall<Req, object> {
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
          const metadata = errorTrailers(e);
          end({ code: grpc.status[GRPC_STATUS[e.code]] });
          endRequestSpan(traced?.span, { 'rpc.grpc.status_code': GRPC_STATUS[e.code] }, e.status >= 500, e.message);
          callback({ code: GRPC_STATUS[e.code], details: e.message, metadata }, null);
        }
      });
    };
  }

  /**
   * A service's handlers: the unary ones wrapped (auth, errors, metrics), streaming ones as given.
   * A method of the .proto without a handler is a start-up error, not a silent UNIMPLEMENTED.
   */
  function implement(service: string, rpcs: Rpcs, streaming: grpc.UntypedServiceImplementation = {}): grpc.UntypedServiceImplementation {
    const methods = Object.keys(definition[service] as protoLoader.ServiceDefinition);
    const missing = methods.filter((m) => !(m in rpcs) && !(m in streaming));
    if (missing.length > 0) throw new Error(`${service}: no handler for ${missing.join(', ')}`);
    return Object.fromEntries(methods.map((m) => [m, streaming[m] ?? unary(`${service}/${m}`, rpcs[m]!)]));
  }

  const s = o.services;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': o.maxMessageBytes });
  server.addService(definition[V1_SERVICE] as grpc.ServiceDefinition, implement(V1_SERVICE, { ...sendRpcs(s), ...inboxRpcs(s), ...readRpcs(s), ...directoryRpcs(s), ...presenceRpcs(s), ...deviceRpcs(s) }));
  server.addService(definition[LEGACY_SERVICE] as grpc.ServiceDefinition, implement(LEGACY_SERVICE, legacyRpcs(s)));
  const health = readinessHealth(o.health, [V1_SERVICE, LEGACY_SERVICE]);
  health.addToServer(server);
  new ReflectionService(definition).addToServer(server);

  const stream = sendStreamService({
    send: o.services.send,
    maxMessageLength: o.services.maxMessageLength,
    authenticate,
    status: GRPC_STATUS,
    maxInFlight: o.streamMaxInFlight,
    log: o.log,
    metrics: o.metrics,
  });
  server.addService(definition[STREAM_SERVICE] as grpc.ServiceDefinition, { SendStream: stream.handler });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${o.host}:${o.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return {
    server,
    port,
    close: async () => {
      health.stop();
      // Streams first: every frame received is answered and each stream ended, then the server stops.
      await stream.close(10_000);
      await new Promise<void>((resolve) => {
        // Calls still open after 10 s (health Watch streams never end on their own) are cut.
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 10_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
