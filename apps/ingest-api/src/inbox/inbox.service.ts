import type { ConversationsRepository, CursorField, CursorsRepository, MessagesRepository, OfflineRepository } from '@im/db';
import type { Metrics } from '@im/metrics';
import type { GroupMembersCache, UnackedTracker } from '@im/redis';

export interface InboxDeps {
  offline: OfflineRepository;
  messages: MessagesRepository;
  cursors: CursorsRepository;
  conversations: ConversationsRepository;
  members: Pick<GroupMembersCache, 'isMember'>;
  unacked: Pick<UnackedTracker, 'acked'>;
  metrics: Pick<Metrics, 'offlinePulls' | 'acks'>;
  assertUser(userId: string): Promise<void>;
}

/** What a receiver does with its messages: pulls the offline ones by cursor, acknowledges them. */
export function inboxService(d: InboxDeps) {
  return {
    async pullOffline(userId: string, lastMessageId: string | null, limit: number) {
      await d.assertUser(userId);
      const page = await d.offline.pull(userId, lastMessageId, limit, Date.now());
      d.metrics.offlinePulls.inc();
      return { messages: page.messages, has_more: page.hasMore };
    },

    /**
     * Moves the user's delivered or read cursor in each conversation to the highest acknowledged
     * seq. Only messages the user received count; the rest are rejected and change nothing.
     */
    async ack(userId: string, messageIds: readonly string[], status: CursorField): Promise<{ updated: number }> {
      await d.assertUser(userId);
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
  };
}
