import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { describeValue, deviceIdField, idField } from '@im/contracts';
import type { Services } from '../services';
import { parse } from './parse';

/** The ack's body; gRPC's AckMessages checks its fields with the same parser. */
export const ackBody = z
  .object({
    user_id: idField('user_id'),
    message_ids: z.array(idField('message_ids[]')).min(1, 'message_ids must hold 1 to 1000 ids').max(1000, 'message_ids must hold 1 to 1000 ids'),
    status: z.unknown().transform((v, ctx) => {
      if (v === 'delivered' || v === 'read') return v;
      ctx.addIssue({ code: 'custom', message: `status must be "delivered" or "read" (got ${describeValue(v)})` });
      return z.NEVER;
    }),
    device_id: deviceIdField.optional(),
  })
  .strict();

/** POST /v1/acks. */
export function ackRoutes(s: Services): FastifyPluginAsync {
  return async (app) => {
    app.post('/v1/acks', async (req) => {
      const b = parse(ackBody, req.body);
      return s.ack(b.user_id, b.message_ids, b.status, b.device_id);
    });
  };
}
