import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { QUEUES } from '@im/contracts';
import type { Logger } from '@im/logger';
import { docsRoutes, type OpenApiDocument } from './openapi';

export interface DashboardOptions {
  host: string;
  port: number;
  readOnly: boolean;
  /** Every queue of the pipeline, every shard (pipelineQueues in worker-kit, derived from QUEUES and queue.shards). */
  queues: readonly { label: string; shard: number; queue: Queue }[];
  document: OpenApiDocument;
  log: Logger;
}

/**
 * ingest-api's second listener: bull-board over every pipeline queue at /queues (read-only unless
 * dashboard.read_only = false) and the API docs at /docs and /openapi.json. It needs no token, so
 * it listens on loopback by default; a browser can open it, unlike the API's default port 6000.
 */
export async function startDashboard(o: DashboardOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: o.log.child({ listener: 'dashboard' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  const board = new FastifyAdapter();
  board.setBasePath('/queues');
  createBullBoard({
    // Shards of a stage share the BullMQ name (their prefixes differ): a board prefix keeps them apart.
    queues: o.queues.map(
      (q) => new BullMQAdapter(q.queue, { readOnlyMode: o.readOnly, description: describeQueue(q.label), displayName: q.label, prefix: q.shard === 0 ? '' : `s${q.shard}.` }),
    ),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'im-message queues' } },
  });
  await app.register(board.registerPlugin() as never, { prefix: '/queues' });
  await app.register(docsRoutes(o.document));
  app.get('/', async (_req, reply) => reply.redirect('/queues'));
  await app.listen({ host: o.host, port: o.port });
  return app;
}

const STAGES: Record<string, string> = {
  [QUEUES.persist]: 'accepted messages, many per job, to worker-persist (message_history)',
  [QUEUES.fanout]: 'group messages to worker-fanout, expanded into delivery chunks of 500 members',
  [QUEUES.deliver]: 'deliveries to worker-delivery: Pub/Sub when online, offline rows otherwise',
  [QUEUES.cleaner]: "worker-cleaner's scheduled sweep; a running sweep shows its progress",
  [QUEUES.push]: 'offline deliveries to worker-push, and (delayed) the collapse windows it sends to FCM, APNs or the webhook',
};

function describeQueue(name: string): string {
  const stage = Object.keys(STAGES).find((q) => name === q || name.startsWith(`${q}.`));
  return stage ? STAGES[stage]! : 'pipeline queue';
}
