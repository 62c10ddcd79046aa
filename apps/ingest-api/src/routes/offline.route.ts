import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Services } from '../services';
import { parse } from './parse';
import { intQuery, optionalIdQuery, userParams } from './params';

/** The pull's query; gRPC's PullOfflineMessage checks its fields with the same parsers. */
export const offlinePullQuery = z.object({ limit: intQuery('limit', 1, 1000, 100), last_message_id: optionalIdQuery('last_message_id') }).strict();

/** GET /v1/users/{user_id}/offline-messages: acknowledge-by-cursor pull. */
export function offlineRoutes(s: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/v1/users/:user_id/offline-messages', async (req) => {
      const { user_id } = parse(userParams, req.params);
      const q = parse(offlinePullQuery, req.query);
      return s.pullOffline(user_id, q.last_message_id, q.limit);
    });
  };
}
