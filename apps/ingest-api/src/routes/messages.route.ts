import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { fastSendParsers, sendSchemas, type SendRequest } from '@im/contracts';
import { AppError, invalidArgument } from '@im/errors';
import type { Services } from '../services';
import { parse } from './parse';

const MAX_BATCH = 1000;

/** POST /v1/messages, /v1/group-messages and /v1/messages/batch. */
export function messageRoutes(s: Services): FastifyPluginAsync {
  const { single, group } = sendSchemas(s.maxMessageLength);
  // Valid bodies take the plain check; anything it refuses goes through zod for the exact error.
  const fast = fastSendParsers(s.maxMessageLength);
  const batchBody = z.object({ messages: z.array(z.unknown()).min(1).max(MAX_BATCH) }).strict();

  return async (app) => {
    app.post('/v1/messages', async (req, reply) => {
      const body = fast.single(req.body) ?? parse(single, req.body);
      const result = await s.send.send({ kind: 'single', ...body });
      return reply.status(202).send(result);
    });

    app.post('/v1/group-messages', async (req, reply) => {
      const body = fast.group(req.body) ?? parse(group, req.body);
      const result = await s.send.send({ kind: 'group', ...body });
      return reply.status(202).send(result);
    });

    app.post('/v1/messages/batch', async (req, reply) => {
      const r = batchBody.safeParse(req.body);
      if (!r.success) {
        throw invalidArgument(`the body must be {"messages": [...]} with 1 to ${MAX_BATCH} items`);
      }
      // Each item is checked on its own: a bad item gets its own error and the rest go through.
      const parsed: (SendRequest | AppError)[] = r.data.messages.map((item, i) => {
        const isGroup = typeof item === 'object' && item !== null && 'group_id' in item;
        try {
          return isGroup
            ? { kind: 'group' as const, ...(fast.group(item) ?? parse(group, item, `messages[${i}]: `)) }
            : { kind: 'single' as const, ...(fast.single(item) ?? parse(single, item, `messages[${i}]: `)) };
        } catch (err) {
          return err as AppError;
        }
      });
      const valid = parsed.filter((p): p is SendRequest => !(p instanceof AppError));
      const sent = valid.length > 0 ? await s.send.sendMany(valid) : [];
      let next = 0;
      const results = parsed.map((p) => {
        const out = p instanceof AppError ? p : sent[next++]!;
        return out instanceof AppError ? { error: out.toJSON() } : out;
      });
      return reply.status(200).send({ results });
    });
  };
}
