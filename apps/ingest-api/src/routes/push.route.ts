import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { describeValue, DEVICE_ID_PATTERN, idField, PUSH_PLATFORMS } from '@im/contracts';
import type { Services } from '../services';
import { parse } from './parse';

const deviceParams = z.object({
  user_id: idField('user_id'),
  device_id: z.unknown().transform((v, ctx) => {
    if (typeof v === 'string' && DEVICE_ID_PATTERN.test(v)) return v;
    ctx.addIssue({ code: 'custom', message: `device_id must be 1 to 64 letters, digits, '.', '_', ':' or '-' (got ${describeValue(v)})` });
    return z.NEVER;
  }),
});
const muteParams = z.object({ user_id: idField('user_id'), conversation: z.string() });
const tokenBody = z
  .object({
    platform: z.unknown().transform((v, ctx) => {
      const p = PUSH_PLATFORMS.find((x) => x === v);
      if (p) return p;
      ctx.addIssue({ code: 'custom', message: `platform must be one of ${PUSH_PLATFORMS.join(', ')} (got ${describeValue(v)})` });
      return z.NEVER;
    }),
    token: z.unknown().transform((v, ctx) => {
      if (typeof v === 'string' && /^[\x21-\x7e]{1,4096}$/.test(v)) return v;
      ctx.addIssue({ code: 'custom', message: `token must be 1 to 4096 printable ASCII characters without spaces (got ${describeValue(v)})` });
      return z.NEVER;
    }),
  })
  .strict();

/** Push tokens per device and muted conversations (docs/push.md). */
export function pushRoutes(s: Pick<Services, 'setPushToken' | 'removePushToken' | 'mute' | 'unmute'>): FastifyPluginAsync {
  return async (app) => {
    app.put('/v1/users/:user_id/devices/:device_id/push-token', async (req, reply) => {
      const { user_id, device_id } = parse(deviceParams, req.params);
      const { platform, token } = parse(tokenBody, req.body);
      await s.setPushToken(user_id, device_id, platform, token);
      return reply.status(204).send();
    });
    app.delete('/v1/users/:user_id/devices/:device_id/push-token', async (req, reply) => {
      const { user_id, device_id } = parse(deviceParams, req.params);
      await s.removePushToken(user_id, device_id);
      return reply.status(204).send();
    });
    app.put('/v1/users/:user_id/mutes/:conversation', async (req, reply) => {
      const { user_id, conversation } = parse(muteParams, req.params);
      await s.mute(user_id, conversation);
      return reply.status(204).send();
    });
    app.delete('/v1/users/:user_id/mutes/:conversation', async (req, reply) => {
      const { user_id, conversation } = parse(muteParams, req.params);
      await s.unmute(user_id, conversation);
      return reply.status(204).send();
    });
  };
}
