import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Services } from '../services';
import { parse } from './parse';
import { nameField, userParams } from './params';

/** PUT /v1/users/{user_id}'s body (and gRPC UpsertUser's). */
export const userBody = z.object({ name: nameField('name', 128) }).strict();

/** PUT /v1/users/{user_id}: upsert. */
export function userRoutes(s: Services): FastifyPluginAsync {
  return async (app) => {
    app.put('/v1/users/:user_id', async (req, reply) => {
      const { user_id } = parse(userParams, req.params);
      const { name } = parse(userBody, req.body);
      await s.upsertUser(user_id, name);
      return reply.status(204).send();
    });
  };
}
