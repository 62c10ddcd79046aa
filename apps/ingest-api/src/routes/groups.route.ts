import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { idField } from '@im/contracts';
import { invalidArgument } from '@im/errors';
import type { Services } from '../services';
import { parse } from './parse';
import { cursorQuery, intQuery, nameField } from './params';
import { decodeCursor, encodeCursor } from './page-cursor';

const MAX_CHANGE = 10_000;
export const groupParams = z.object({ group_id: idField('group_id') });
export const groupBody = z.object({ name: nameField('name', 128) }).strict();
const idList = (name: string) => z.array(idField(`${name}[]`)).max(MAX_CHANGE, `${name} may hold at most ${MAX_CHANGE} ids`).optional();
const membersBody = z.object({ add: idList('add'), remove: idList('remove') }).strict();
export const membersQuery = z.object({ limit: intQuery('limit', 1, MAX_CHANGE, 1000), cursor: cursorQuery }).strict();

/** A member change's body, checked whole: at least one id, none both added and removed (HTTP and gRPC). */
export function parseMemberChange(value: unknown): { add: string[]; remove: string[] } {
  const body = parse(membersBody, value);
  const add = body.add ?? [];
  const remove = body.remove ?? [];
  if (add.length === 0 && remove.length === 0) throw invalidArgument('give at least one user id in add or remove');
  const both = inBoth(add, remove);
  if (both !== undefined) throw invalidArgument(`user ${both} is both in add and in remove`);
  return { add, remove };
}

/** One page of a group's members (HTTP and gRPC). */
export async function membersPage(s: Services, groupId: string, q: z.output<typeof membersQuery>) {
  const after = decodeCursor('members', [groupId], q.cursor);
  const { next, ...page } = await s.listMembers(groupId, after?.[0] ?? null, q.limit);
  return { ...page, next_cursor: next === null ? null : encodeCursor('members', [groupId], [next]) };
}

/** The first id of `add` that is also in `remove`, if any: one pass over each list (a Set), not every pair. */
export function inBoth(add: readonly string[], remove: readonly string[]): string | undefined {
  const removed = new Set(remove);
  return add.find((id) => removed.has(id));
}

/** PUT /v1/groups/{id}, POST and GET /v1/groups/{id}/members. */
export function groupRoutes(s: Services): FastifyPluginAsync {
  return async (app) => {
    app.put('/v1/groups/:group_id', async (req, reply) => {
      const { group_id } = parse(groupParams, req.params);
      const { name } = parse(groupBody, req.body);
      await s.upsertGroup(group_id, name);
      return reply.status(204).send();
    });

    app.post('/v1/groups/:group_id/members', async (req) => {
      const { group_id } = parse(groupParams, req.params);
      const { add, remove } = parseMemberChange(req.body);
      return s.changeMembers(group_id, add, remove);
    });

    app.get('/v1/groups/:group_id/members', async (req) => {
      const { group_id } = parse(groupParams, req.params);
      return membersPage(s, group_id, parse(membersQuery, req.query));
    });
  };
}
