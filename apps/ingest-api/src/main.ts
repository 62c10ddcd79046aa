import { boot, installShutdown } from '@im/worker-kit';
import { createIngest } from './ingest';
import { startGrpcServer } from './grpc/server';

const { config, log, metrics } = boot('ingest-api');

if (config.auth.api_tokens.length === 0) {
  log.fatal('no API token configured: set [auth] api_tokens or IM_API_TOKENS (comma separated)');
  process.exit(2);
}

const { app, services, lease, shutdownSteps } = await createIngest(config, log, metrics);

await app.listen({ host: config.message_service.host, port: config.message_service.port });
app.server.maxConnections = config.message_service.max_connections;
log.info({ host: config.message_service.host, port: config.message_service.port, node: lease.current }, 'ingest-api listening');

const grpc =
  config.message_service.grpc_port === 0
    ? undefined
    : await startGrpcServer({
        services,
        tokens: config.auth.api_tokens,
        host: config.message_service.host,
        port: config.message_service.grpc_port,
        maxMessageBytes: config.message_service.max_body_bytes,
        log,
        metrics,
      });
if (grpc) log.info({ port: grpc.port }, 'gRPC MessageService listening');

installShutdown(log, () => [...(grpc ? [['stop gRPC', () => grpc.close()] as const] : []), ...shutdownSteps]);
