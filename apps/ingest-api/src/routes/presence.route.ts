import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { describeValue, deviceIdField, PLATFORMS, type Platform } from '@im/contracts';
import type { Services } from '../services';
import { parse } from './parse';
import { userParams } from './params';

const gatewayId = z.unknown().transform((v, ctx) => {
  if (typeof v === 'string' && /^[\w.:-]{1,128}$/.test(v)) return v;
  ctx.addIssue({ code: 'custom', message: `gateway_id must be 1 to 128 characters of A-Z a-z 0-9 _ . : - (got ${describeValue(v)})` });
  return z.NEVER;
});

const platform = z.unknown().transform((v, ctx): Platform => {
  if (typeof v === 'string' && (PLATFORMS as readonly string[]).includes(v)) return v as Platform;
  ctx.addIssue({ code: 'custom', message: `platform must be one of ${PLATFORMS.join(', ')} (got ${describeValue(v)})` });
  return z.NEVER;
});

/** The heartbeat's body; gRPC's SetPresence checks its fields with the same parser. */
export const presenceBody = z
  .object({
    gateway_id: gatewayId,
    device_id: deviceIdField.optional(),
    platform: platform.optional(),
    ttl_s: z
      .unknown()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return 60;
        if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 86_400) return v;
        ctx.addIssue({ code: 'custom', message: `ttl_s must be an integer from 1 to 86400 seconds (got ${describeValue(v)})` });
        return z.NEVER;
      }),
  })
  .strict();

export const presenceClearQuery = z.object({ gateway_id: gatewayId.optional(), device_id: deviceIdField.optional() }).strict();

/** PUT and DELETE /v1/presence/{user_id}: gateway heartbeats and disconnects, per device. */
export function presenceRoutes(s: Services): FastifyPluginAsync {
  return async (app) => {
    app.put('/v1/presence/:user_id', async (req, reply) => {
      const { user_id } = parse(userParams, req.params);
      const b = parse(presenceBody, req.body);
      await s.setPresence(user_id, b.gateway_id, b.ttl_s, b.device_id, b.platform);
      return reply.status(204).send();
    });
    app.delete('/v1/presence/:user_id', async (req, reply) => {
      const { user_id } = parse(userParams, req.params);
      const q = parse(presenceClearQuery, req.query);
      await s.clearPresence(user_id, q.gateway_id, q.device_id);
      return reply.status(204).send();
    });
  };
}
