import { groupBody, groupParams, membersPage, membersQuery, parseMemberChange } from '../routes/groups.route';
import { userParams } from '../routes/params';
import { parse } from '../routes/parse';
import { userBody } from '../routes/users.route';
import type { Services } from '../services';
import type { Rpcs } from './server';
import { given, id, text } from './wire';

/** UpsertUser, UpsertGroup, ChangeGroupMembers and ListGroupMembers: PUT /v1/users, PUT /v1/groups, POST and GET .../members. */
export function directoryRpcs(s: Services): Rpcs {
  return {
    UpsertUser: async (r) => {
      const { user_id } = parse(userParams, { user_id: id(r.user_id) });
      const { name } = parse(userBody, { name: r.name });
      await s.upsertUser(user_id, name);
      return {};
    },
    UpsertGroup: async (r) => {
      const { group_id } = parse(groupParams, { group_id: id(r.group_id) });
      const { name } = parse(groupBody, { name: r.name });
      await s.upsertGroup(group_id, name);
      return {};
    },
    ChangeGroupMembers: async (r) => {
      const { group_id } = parse(groupParams, { group_id: id(r.group_id) });
      const { add, remove } = parseMemberChange({ add: r.add, remove: r.remove });
      return s.changeMembers(group_id, add, remove);
    },
    ListGroupMembers: async (r) => {
      const { group_id } = parse(groupParams, { group_id: id(r.group_id) });
      const page = await membersPage(s, group_id, parse(membersQuery, { limit: given(r.limit), cursor: text(r.cursor) }));
      return { ...page, next_cursor: page.next_cursor ?? '' };
    },
  };
}
