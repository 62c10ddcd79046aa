import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { deviceIdField, idField } from '@im/contracts';
import type { Services } from '../services';
import { parse } from './parse';
import { intQuery, optionalIdQuery, userParams } from './params';

export const deviceParams = z.object({ user_id: idField('user_id'), device_id: deviceIdField });

/** The sync's query: a page size and the cursor of the page to confirm. */
export const syncQuery = z.object({ limit: intQuery('limit', 1, 1000, 100), cursor: optionalIdQuery('cursor') }).strict();

/** A user's devices, and each device's sync. */
export function deviceRoutes(s: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/v1/users/:user_id/devices', async (req) => {
      const { user_id } = parse(userParams, req.params);
      return s.listDevices(user_id);
    });
    app.delete('/v1/users/:user_id/devices/:device_id', async (req, reply) => {
      const { user_id, device_id } = parse(deviceParams, req.params);
      await s.removeDevice(user_id, device_id);
      return reply.status(204).send();
    });
    app.get('/v1/users/:user_id/devices/:device_id/sync', async (req) => {
      const { user_id, device_id } = parse(deviceParams, req.params);
      const q = parse(syncQuery, req.query);
      return s.sync(user_id, device_id, q.cursor, q.limit);
    });
  };
}
