import type { z } from 'zod';
import { channels, describeIssues } from '@im/contracts';
import type { ConversationsRepository, CursorsRepository, CursorField, GroupsRepository, MessagesRepository, OfflineRepository, UsersRepository } from '@im/db';
import { invalidArgument, notFound } from '@im/errors';
import type { Metrics } from '@im/metrics';
import type { GroupMembersCache, HotHistory, Presence, Publisher, Redis, UnackedTracker } from '@im/redis';
import type { KnownIds } from './send/known-ids';
import { readService } from './read/read.service';
import type { SendService } from './send/send.service';

/** Parses a request part with a zod schema; failures become INVALID_ARGUMENT naming each field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw invalidArgument(describeIssues(r.error, prefix));
  return r.data;
}

export interface ServiceDeps {
  send: SendService;
  users: UsersRepository;
  knownUsers: KnownIds;
  groups: GroupsRepository;
  knownGroups: KnownIds;
  members: GroupMembersCache;
  messages: MessagesRepository;
  offline: OfflineRepository;
  cursors: CursorsRepository;
  conversations: ConversationsRepository;
  presence: Presence;
  /** The newest messages of conversations being read (history_cache). */
  hot: HotHistory;
  unacked: UnackedTracker;
  redis: Redis;
  /** Events on the contract's channels (PUBLISH or SPUBLISH: queue.pubsub). */
  publisher: Publisher;
  metrics: Metrics;
  maxMessageLength: number;
}

/** The application functions behind the routes; routes only parse, call and answer. */
export function createServices(d: ServiceDeps) {
  async function assertUser(userId: string): Promise<void> {
    const unknown = await d.knownUsers.unknown([userId]);
    if (unknown.length > 0) throw notFound(`user ${userId} is not known; register it with PUT /v1/users/${userId}`);
  }

  async function assertGroup(groupId: string): Promise<void> {
    const unknown = await d.knownGroups.unknown([groupId]);
    if (unknown.length > 0) throw notFound(`group ${groupId} is not known; create it with PUT /v1/groups/${groupId}`);
  }

  const read = readService({
    messages: d.messages,
    conversations: d.conversations,
    cursors: d.cursors,
    members: d.members,
    hot: d.hot,
    metrics: d.metrics,
    redis: d.redis,
    publisher: d.publisher,
    assertUser,
    assertGroup,
  });

  return {
    maxMessageLength: d.maxMessageLength,
    send: d.send,
    read,

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
        throw notFound(`${unknown.length} user(s) to add are not known: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}`);
      }
      await d.members.invalidate(groupId);
      const count = await d.groups.changeMembers(groupId, [...new Set(add)], [...new Set(remove)], Date.now());
      await d.members.invalidate(groupId);
      return { member_count: count };
    },

    async listMembers(groupId: string): Promise<{ members: string[] }> {
      await assertGroup(groupId);
      return { members: await d.groups.members(groupId) };
    },

    async setPresence(userId: string, gatewayId: string, ttlS: number): Promise<void> {
      await d.presence.set(userId, gatewayId, ttlS);
    },

    /** A disconnect; with gatewayId, only that gateway's presence goes (a newer connection elsewhere stays). */
    async clearPresence(userId: string, gatewayId?: string): Promise<void> {
      await d.presence.clear(userId, gatewayId);
    },

    async pullOffline(userId: string, lastMessageId: string | null, limit: number) {
      await assertUser(userId);
      const page = await d.offline.pull(userId, lastMessageId, limit, Date.now());
      d.metrics.offlinePulls.inc();
      return { messages: page.messages, has_more: page.hasMore };
    },

    /**
     * Moves the user's delivered or read cursor in each conversation to the highest acknowledged
     * seq. Only messages the user received count; the rest are rejected and change nothing.
     */
    async ack(userId: string, messageIds: readonly string[], status: CursorField): Promise<{ updated: number }> {
      await assertUser(userId);
      const unique = [...new Set(messageIds)];
      const refs = await d.messages.findRefs(unique);
      const highest = new Map<string, number>();
      const groups = [...new Set(refs.flatMap((r) => (r.group_id === null ? [] : [r.group_id])))];
      const memberOf = new Set((await Promise.all(groups.map(async (g) => ((await d.members.isMember(g, userId)) ? g : null)))).filter((g) => g !== null));
      const acceptedIds: string[] = [];
      for (const ref of refs) {
        const recipient = ref.group_id === null ? ref.receiver_id === userId : ref.sender_id !== userId && memberOf.has(ref.group_id);
        if (!recipient) continue;
        acceptedIds.push(ref.message_id);
        highest.set(ref.conversation, Math.max(highest.get(ref.conversation) ?? 0, ref.seq));
      }
      const moves = [...highest].map(([conversation, seq]) => ({ user_id: userId, conversation, seq }));
      await d.cursors.advance(status, moves, Date.now());
      await d.conversations.advanceBest(status, moves);
      // Any ack proves delivery: the publish no longer waits for redelivery.
      await d.unacked.acked(userId, acceptedIds);
      const accepted = acceptedIds.length;
      d.metrics.acks.inc({ status }, accepted);
      if (unique.length > accepted) d.metrics.acks.inc({ status: 'rejected' }, unique.length - accepted);
      return { updated: accepted };
    },

    async notify(content: string): Promise<void> {
      await d.publisher.publish(channels.notification, JSON.stringify({ event: 'notification', content, timestamp: Date.now() }));
    },
  };
}

export type Services = ReturnType<typeof createServices>;
