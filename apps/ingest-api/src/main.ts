import { closeRedis, createRedis } from '@im/redis';
import { boot, installShutdown, pipelineQueues, sampleQueues } from '@im/worker-kit';
import { createIngest } from './ingest';
import { startGrpcServer } from './grpc/server';
import { startDashboard } from './dashboard';
import { openApiDocument } from './openapi';

const { config, log, metrics } = boot('ingest-api');

if (config.auth.api_tokens.length === 0) {
  log.fatal('no API token configured: set [auth] api_tokens or IM_API_TOKENS (comma separated)');
  process.exit(2);
}

// A reshard that finished stops this process, which then starts again on the new layout.
let followDeployment = () => {};
const { app, services, lease, topology, shutdownSteps } = await createIngest(config, log, metrics, { onDeploymentChange: () => followDeployment() });

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

// Every pipeline queue, on a connection of its own: the queue gauges (sampled here as well as in
// worker-cleaner) and the dashboard read them.
const opsRedis = createRedis(config.queue, 'producer', 'im-ingest-ops', (err) => log.debug({ err: err.message }, 'ops redis connection error'));
const pipeline = pipelineQueues(opsRedis, config, log, topology);
const stopQueueSampling = sampleQueues(pipeline, metrics, (err) => log.debug({ err }, 'queue sampling failed'));

// A dashboard that cannot listen (port taken) is logged, not fatal: the API matters more.
const dashboard =
  config.dashboard.port === 0
    ? undefined
    : await startDashboard({ host: config.dashboard.host, port: config.dashboard.port, readOnly: config.dashboard.read_only, queues: pipeline, document: openApiDocument(), log }).then(
        (d) => {
          log.info({ url: `http://${config.dashboard.host}:${config.dashboard.port}/queues`, readOnly: config.dashboard.read_only }, 'queue dashboard and API docs listening');
          return d;
        },
        (err: Error) => {
          log.error({ err: err.message, port: config.dashboard.port }, 'the queue dashboard could not listen; set dashboard.port (0: off)');
          return undefined;
        },
      );

const shutdown = installShutdown(log, () => [
  ...(grpc ? [['stop gRPC', () => grpc.close()] as const] : []),
  ...(dashboard ? [['close dashboard', () => dashboard.close()] as const] : []),
  ...shutdownSteps,
  ['close pipeline queues', async () => (stopQueueSampling(), await Promise.all(pipeline.map((q) => q.queue.close())), await closeRedis(opsRedis))],
]);
followDeployment = () => void shutdown();
