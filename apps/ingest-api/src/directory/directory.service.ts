import type { GroupsRepository, UsersRepository } from '@im/db';
import { notFound } from '@im/errors';
import type { GroupMembersCache } from '@im/redis';
import type { KnownIds } from '../send/known-ids';

export interface DirectoryDeps {
  users: UsersRepository;
  knownUsers: KnownIds;
  groups: GroupsRepository;
  knownGroups: KnownIds;
  members: GroupMembersCache;
}

/** Users, groups and their members: registered here, checked by every other use case. */
export function directoryService(d: DirectoryDeps) {
  async function assertUser(userId: string): Promise<void> {
    const unknown = await d.knownUsers.unknown([userId]);
    if (unknown.length > 0) throw notFound('UNKNOWN_USER', `user ${userId} is not known; register it with PUT /v1/users/${userId}`);
  }

  async function assertGroup(groupId: string): Promise<void> {
    const unknown = await d.knownGroups.unknown([groupId]);
    if (unknown.length > 0) throw notFound('UNKNOWN_GROUP', `group ${groupId} is not known; create it with PUT /v1/groups/${groupId}`);
  }

  return {
    assertUser,
    assertGroup,

    async upsertUser(userId: string, name: string): Promise<void> {
      await d.users.upsert(userId, name, Date.now());
      d.knownUsers.remember(userId);
    },

    async upsertGroup(groupId: string, name: string): Promise<void> {
      await d.groups.upsert(groupId, name, Date.now());
      d.knownGroups.remember(groupId);
    },

    /**
     * Adds and removes members. The cached member list is invalidated before and after the MySQL
     * change, so neither fan-out nor the sender check can keep using the old list.
     */
    async changeMembers(groupId: string, add: readonly string[], remove: readonly string[]): Promise<{ member_count: number }> {
      await assertGroup(groupId);
      const unknown = await d.knownUsers.unknown([...new Set(add)]);
      if (unknown.length > 0) {
        throw notFound('UNKNOWN_USER', `${unknown.length} user(s) to add are not known: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}`);
      }
      await d.members.invalidate(groupId);
      const count = await d.groups.changeMembers(groupId, [...new Set(add)], [...new Set(remove)], Date.now());
      await d.members.invalidate(groupId);
      return { member_count: count };
    },

    /** A page of members by user id, after `afterUserId` (the previous page's last); `next` is this page's last. */
    async listMembers(groupId: string, afterUserId: string | null, limit: number): Promise<{ members: string[]; has_more: boolean; next: string | null }> {
      await assertGroup(groupId);
      const found = await d.groups.membersPage(groupId, afterUserId, limit + 1);
      const members = found.slice(0, limit);
      const next = found.length > limit ? members.at(-1)! : null;
      return { members, has_more: next !== null, next };
    },
  };
}

export type DirectoryService = ReturnType<typeof directoryService>;
