import { closeRedis, createRedis } from '@im/redis';
import { pipelineQueues, runProcess, sampleQueues } from '@im/worker-kit';
import { createIngest } from './ingest';
import { startGrpcServer } from './grpc/server';
import { startDashboard } from './dashboard';
import { openApiDocument } from './openapi';

// The HTTP and gRPC API on the process runner the workers use: boot, readiness and the shutdown
// order are the runner's; ingest brings its listeners and what they stop in turn. With
// metrics.port set, /metrics and /health/dependencies are on that port only (the runner's ops
// server), so a Service in front of the API port does not expose them.
await runProcess(
  'ingest-api',
  async ({ config, log, metrics, health, shutdown }) => {
    if (config.auth.api_tokens.length === 0) {
      log.fatal('no API token configured: set [auth] api_tokens or IM_API_TOKENS (comma separated)');
      process.exit(2);
    }
    const ingest = await createIngest(config, log, metrics, { health, opsRoutes: config.metrics.port === 0, onDeploymentChange: () => void shutdown() });
    const { app, services, lease, topology } = ingest;

    // Every pipeline queue, on a connection of its own: the queue gauges (sampled here as well as in
    // worker-cleaner) and the dashboard read them.
    const opsRedis = createRedis(config.queue, 'producer', 'im-ingest-ops', (err) => log.debug({ err: err.message }, 'ops redis connection error'));
    const pipeline = pipelineQueues(opsRedis, config, log, topology);
    const stopQueueSampling = sampleQueues(pipeline, metrics, (err) => log.debug({ err }, 'queue sampling failed'));

    let grpc: Awaited<ReturnType<typeof startGrpcServer>> | undefined;
    let dashboard: { close(): Promise<void> } | undefined;
    return {
      redis: ingest.redis,
      pool: ingest.pool,
      generation: ingest.generation,
      async serve() {
        await app.listen({ host: config.message_service.host, port: config.message_service.port });
        app.server.maxConnections = config.message_service.max_connections;
        log.info({ host: config.message_service.host, port: config.message_service.port, node: lease.current }, 'ingest-api listening');
        if (config.message_service.grpc_port !== 0) {
          grpc = await startGrpcServer({
            services,
            tokens: config.auth.api_tokens,
            host: config.message_service.host,
            port: config.message_service.grpc_port,
            maxMessageBytes: config.message_service.max_body_bytes,
            streamMaxInFlight: config.message_service.stream_max_in_flight,
            log,
            metrics,
            health,
          });
          log.info({ port: grpc.port }, 'gRPC listening: im.message.v1.MessageService, mpim.MessageService (deprecated), grpc.health.v1.Health, reflection');
        }
        // A dashboard that cannot listen (port taken) is logged, not fatal: the API matters more.
        if (config.dashboard.port !== 0) {
          dashboard = await startDashboard({ host: config.dashboard.host, port: config.dashboard.port, readOnly: config.dashboard.read_only, queues: pipeline, document: openApiDocument(), log }).then(
            (d) => {
              log.info({ url: `http://${config.dashboard.host}:${config.dashboard.port}/queues`, readOnly: config.dashboard.read_only }, 'queue dashboard and API docs listening');
              return d;
            },
            (err: Error) => {
              log.error({ err: err.message, port: config.dashboard.port }, 'the queue dashboard could not listen; set dashboard.port (0: off)');
              return undefined;
            },
          );
        }
      },
      stop: [
        ['stop gRPC', async () => grpc?.close()],
        ['close dashboard', async () => dashboard?.close()],
        ...ingest.stopSteps,
        ['close pipeline queues', async () => (stopQueueSampling(), await Promise.all(pipeline.map((q) => q.queue.close())), await closeRedis(opsRedis))],
      ],
    };
  },
  { opsServer: ({ config }) => config.metrics.port !== 0 },
);
