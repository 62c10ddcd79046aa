import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { describeValue, idField } from '@im/contracts';
import { invalidArgument } from '@im/errors';
import type { Services } from '../services';
import { parse } from './parse';
import { cursorQuery, intQuery, optionalIdQuery, userParams } from './params';
import { decodeCursor, encodeCursor } from './page-cursor';

const historyQuery = z
  .object({
    peer_id: optionalIdQuery('peer_id'),
    group_id: optionalIdQuery('group_id'),
    before_seq: intQuery('before_seq', 1, 999_999_999, 0),
    limit: intQuery('limit', 1, 200, 50),
  })
  .strict();

const msQuery = (name: string, def: () => number) =>
  z
    .unknown()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return def();
      if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
      ctx.addIssue({ code: 'custom', message: `${name} must be milliseconds since the epoch (got ${describeValue(v)})` });
      return z.NEVER;
    });

const searchQuery = z
  .object({
    keyword: z.unknown().transform((v, ctx) => {
      if (typeof v === 'string' && v.trim().length > 0 && [...v].length <= 100 && v.isWellFormed()) return v;
      ctx.addIssue({ code: 'custom', message: `keyword must be 1 to 100 characters (got ${describeValue(v)})` });
      return z.NEVER;
    }),
    start_time: msQuery('start_time', () => 0),
    end_time: msQuery('end_time', () => Date.now()),
    limit: intQuery('limit', 1, 200, 50),
    cursor: cursorQuery,
  })
  .strict();

const conversationsQuery = z.object({ limit: intQuery('limit', 1, 200, 50), cursor: cursorQuery }).strict();
const recallParams = z.object({ message_id: idField('message_id') });
const recallQuery = z.object({ user_id: idField('user_id') }).strict();

/** History, search, conversations and recall. */
export function readRoutes(s: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/v1/users/:user_id/history', async (req) => {
      const { user_id } = parse(userParams, req.params);
      const q = parse(historyQuery, req.query);
      const target = q.peer_id !== null && q.group_id === null ? { peer_id: q.peer_id } : q.group_id !== null && q.peer_id === null ? { group_id: q.group_id } : undefined;
      if (target === undefined) throw invalidArgument('give exactly one of peer_id or group_id');
      return s.read.history(user_id, target, q.before_seq || null, q.limit);
    });

    app.get('/v1/users/:user_id/search', async (req) => {
      const { user_id } = parse(userParams, req.params);
      const q = parse(searchQuery, req.query);
      if (q.end_time < q.start_time) throw invalidArgument('end_time must not be before start_time');
      // A cursor is good for the query as it was given (end_time defaults to now at each call).
      const raw = req.query as Record<string, unknown>;
      const scope = [user_id, q.keyword, String(raw.start_time ?? ''), String(raw.end_time ?? '')];
      const after = decodeCursor('search', scope, q.cursor);
      const { next, ...page } = await s.read.search(user_id, q.keyword, q.start_time, q.end_time, q.limit, after);
      return { ...page, next_cursor: next === null ? null : encodeCursor('search', scope, next) };
    });

    app.get('/v1/users/:user_id/conversations', async (req) => {
      const { user_id } = parse(userParams, req.params);
      const q = parse(conversationsQuery, req.query);
      const after = decodeCursor('conversations', [user_id], q.cursor);
      const { next, ...page } = await s.read.conversations(user_id, q.limit, after);
      return { ...page, next_cursor: next === null ? null : encodeCursor('conversations', [user_id], next) };
    });

    app.delete('/v1/messages/:message_id', async (req) => {
      const { message_id } = parse(recallParams, req.params);
      const { user_id } = parse(recallQuery, req.query);
      return s.read.recall(message_id, user_id);
    });
  };
}
