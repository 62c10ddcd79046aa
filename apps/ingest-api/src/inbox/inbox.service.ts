import { channels, DEFAULT_DEVICE, readEvent, receiptEvent } from '@im/contracts';
import type { ConversationsRepository, CursorField, CursorMove, CursorsRepository, DevicesRepository, MessagesRepository, OfflineRepository } from '@im/db';
import type { Metrics } from '@im/metrics';
import type { GroupMembersCache, Publisher, UnackedTracker } from '@im/redis';

export interface InboxDeps {
  offline: OfflineRepository;
  messages: MessagesRepository;
  cursors: CursorsRepository;
  conversations: ConversationsRepository;
  members: Pick<GroupMembersCache, 'isMember'>;
  unacked: Pick<UnackedTracker, 'acked'>;
  devices: Pick<DevicesRepository, 'ofUsers'>;
  publisher: Publisher;
  /** A fresh id from the message-id generator, for events in a device's sync (ordered with messages). */
  nextEventId(): string;
  /** receipts.notify_peer: a read in a single chat sends the peer a receipt event. */
  notifyPeer: boolean;
  metrics: Pick<Metrics, 'offlinePulls' | 'acks'>;
  assertUser(userId: string): Promise<void>;
}

/** What a receiver does with its messages: pulls the offline ones by cursor, acknowledges them. */
export function inboxService(d: InboxDeps) {
  /**
   * A read on one device reaches the user's others: a `read` event on user:{id} (online) and in
   * the sync of each other registered device (the `default` device's sync carries messages only,
   * the single-device pull's shape); with receipts.notify_peer, the peer of a single chat gets a
   * `receipt` event.
   */
  async function readElsewhere(userId: string, deviceId: string, moves: readonly CursorMove[]): Promise<void> {
    const now = Date.now();
    const others = ((await d.devices.ofUsers([userId])).get(userId) ?? []).filter((dev) => dev !== deviceId && dev !== DEFAULT_DEVICE);
    if (others.length > 0) {
      await d.offline.insertMany(
        moves.flatMap((m) => {
          const id = d.nextEventId();
          return others.map((device_id) => ({ user_id: userId, device_id, message_id: id, kind: 'read' as const, conversation: m.conversation, seq: m.seq, origin_device: deviceId }));
        }),
        now,
      );
    }
    const events: [string, string][] = moves.map((m) => [channels.user(userId), readEvent(userId, m.conversation, m.seq, deviceId, now)]);
    if (d.notifyPeer) {
      for (const m of moves) {
        if (!m.conversation.startsWith('s:')) continue;
        const [, a, b] = m.conversation.split(':');
        const peer = a === userId ? b! : a!;
        if (peer !== userId) events.push([channels.user(peer), receiptEvent(userId, m.conversation, m.seq, now)]);
      }
    }
    await d.publisher.publishMany(events);
  }

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
    async ack(userId: string, messageIds: readonly string[], status: CursorField, deviceId: string = DEFAULT_DEVICE): Promise<{ updated: number }> {
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
      // Any ack proves delivery to that device: its publish no longer waits for redelivery.
      await d.unacked.acked(userId, deviceId, acceptedIds);
      if (status === 'read' && moves.length > 0) await readElsewhere(userId, deviceId, moves);
      const accepted = acceptedIds.length;
      d.metrics.acks.inc({ status }, accepted);
      if (unique.length > accepted) d.metrics.acks.inc({ status: 'rejected' }, unique.length - accepted);
      return { updated: accepted };
    },
  };
}
