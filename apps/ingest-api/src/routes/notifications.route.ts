import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { contentField } from '@im/contracts';
import type { Services } from '../services';
import { parse } from './parse';

/** The notification's body (and gRPC PublishNotification's). */
export const notificationBody = (maxMessageLength: number) => z.object({ content: contentField(maxMessageLength) }).strict();

/** POST /v1/notifications: broadcast on system:notification. */
export function notificationRoutes(s: Services): FastifyPluginAsync {
  const body = notificationBody(s.maxMessageLength);
  return async (app) => {
    app.post('/v1/notifications', async (req, reply) => {
      const { content } = parse(body, req.body);
      await s.notify(content);
      return reply.status(202).send({});
    });
  };
}
