import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { fastSendParsers, sendSchemas, type SendRequest } from '@im/contracts';
import { AppError, invalidArgument } from '@im/errors';
import type { Services } from '../services';
import { parse } from './parse';

export const MAX_BATCH = 1000;

/** The send parsers of one deployment (max_message_length): the plain check first, zod for the exact error. */
export function sendParsers(maxMessageLength: number) {
  const { single, group } = sendSchemas(maxMessageLength);
  // Valid bodies take the plain check; anything it refuses goes through zod for the exact error.
  const fast = fastSendParsers(maxMessageLength);
  return {
    single: (body: unknown, prefix = '') => fast.single(body) ?? parse(single, body, prefix),
    group: (body: unknown, prefix = '') => fast.group(body) ?? parse(group, body, prefix),
  };
}

/**
 * Sends a batch's items, each checked on its own: a bad item gets its own error and the rest go
 * through. An item is a group send when it carries group_id. Answers in request order.
 */
export async function sendBatch(s: Services, parsers: ReturnType<typeof sendParsers>, items: readonly unknown[]) {
  const parsed: (SendRequest | AppError)[] = items.map((item, i) => {
    const isGroup = typeof item === 'object' && item !== null && 'group_id' in item;
    try {
      return isGroup ? { kind: 'group' as const, ...parsers.group(item, `messages[${i}]: `) } : { kind: 'single' as const, ...parsers.single(item, `messages[${i}]: `) };
    } catch (err) {
      return err as AppError;
    }
  });
  const valid = parsed.filter((p): p is SendRequest => !(p instanceof AppError));
  const sent = valid.length > 0 ? await s.send.sendMany(valid) : [];
  let next = 0;
  return parsed.map((p) => {
    const out = p instanceof AppError ? p : sent[next++]!;
    return out instanceof AppError ? { error: out.toJSON() } : out;
  });
}

/** POST /v1/messages, /v1/group-messages and /v1/messages/batch. */
export function messageRoutes(s: Services): FastifyPluginAsync {
  const parsers = sendParsers(s.maxMessageLength);
  const batchBody = z.object({ messages: z.array(z.unknown()).min(1).max(MAX_BATCH) }).strict();

  return async (app) => {
    app.post('/v1/messages', async (req, reply) => {
      const result = await s.send.send({ kind: 'single', ...parsers.single(req.body) });
      return reply.status(202).send(result);
    });

    app.post('/v1/group-messages', async (req, reply) => {
      const result = await s.send.send({ kind: 'group', ...parsers.group(req.body) });
      return reply.status(202).send(result);
    });

    app.post('/v1/messages/batch', async (req, reply) => {
      const r = batchBody.safeParse(req.body);
      if (!r.success) {
        throw invalidArgument(`the body must be {"messages": [...]} with 1 to ${MAX_BATCH} items`);
      }
      return reply.status(200).send({ results: await sendBatch(s, parsers, r.data.messages) });
    });
  };
}
