import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { describeValue, idField } from '@im/contracts';
import { invalidArgument } from '@im/errors';
import type { Services } from '../services';
import { parse } from './parse';
import { cursorQuery, intQuery, optionalIdQuery, userParams } from './params';
import { decodeCursor, encodeCursor } from './page-cursor';

export const historyQuery = z
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

export const searchQuery = z
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

export const conversationsQuery = z.object({ limit: intQuery('limit', 1, 200, 50), cursor: cursorQuery }).strict();
export const recallParams = z.object({ message_id: idField('message_id') });
export const recallQuery = z.object({ user_id: idField('user_id') }).strict();

/** The one conversation a history query names: exactly one of peer_id and group_id. */
export function historyTarget(q: z.output<typeof historyQuery>): { peer_id: string } | { group_id: string } {
  if (q.peer_id !== null && q.group_id === null) return { peer_id: q.peer_id };
  if (q.group_id !== null && q.peer_id === null) return { group_id: q.group_id };
  throw invalidArgument('give exactly one of peer_id or group_id');
}

/**
 * One page of a search (HTTP and gRPC). `asked` is the start and end time as the client gave
 * them (absent: ""): a cursor is good for the query as it was given, since end_time defaults to
 * now at each call.
 */
export async function searchPage(s: Services, userId: string, q: z.output<typeof searchQuery>, asked: { start_time: string; end_time: string }) {
  if (q.end_time < q.start_time) throw invalidArgument('end_time must not be before start_time');
  const scope = [userId, q.keyword, asked.start_time, asked.end_time];
  const after = decodeCursor('search', scope, q.cursor);
  const { next, ...page } = await s.read.search(userId, q.keyword, q.start_time, q.end_time, q.limit, after);
  return { ...page, next_cursor: next === null ? null : encodeCursor('search', scope, next) };
}

/** One page of a user's conversations (HTTP and gRPC). */
export async function conversationsPage(s: Services, userId: string, q: z.output<typeof conversationsQuery>) {
  const after = decodeCursor('conversations', [userId], q.cursor);
  const { next, ...page } = await s.read.conversations(userId, q.limit, after);
  return { ...page, next_cursor: next === null ? null : encodeCursor('conversations', [userId], next) };
}

/** History, search, conversations and recall. */
export function readRoutes(s: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/v1/users/:user_id/history', async (req) => {
      const { user_id } = parse(userParams, req.params);
      const q = parse(historyQuery, req.query);
      return s.read.history(user_id, historyTarget(q), q.before_seq || null, q.limit);
    });

    app.get('/v1/users/:user_id/search', async (req) => {
      const { user_id } = parse(userParams, req.params);
      const q = parse(searchQuery, req.query);
      const raw = req.query as Record<string, unknown>;
      return searchPage(s, user_id, q, { start_time: String(raw.start_time ?? ''), end_time: String(raw.end_time ?? '') });
    });

    app.get('/v1/users/:user_id/conversations', async (req) => {
      const { user_id } = parse(userParams, req.params);
      return conversationsPage(s, user_id, parse(conversationsQuery, req.query));
    });

    app.delete('/v1/messages/:message_id', async (req) => {
      const { message_id } = parse(recallParams, req.params);
      const { user_id } = parse(recallQuery, req.query);
      return s.read.recall(message_id, user_id);
    });
  };
}
