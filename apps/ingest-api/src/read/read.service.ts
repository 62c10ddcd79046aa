import { channels, conversationKeys, recallChannel, recallEvent } from '@im/contracts';
import type { ConversationsRepository, CursorsRepository, HistoryRow, MessagesRepository, OfflineRepository, Recall, RecallsRepository } from '@im/db';
import { notFound, permissionDenied } from '@im/errors';
import type { Metrics } from '@im/metrics';
import { markRecalled, type GroupMembersCache, type HotHistory, type Publisher, type Redis } from '@im/redis';

export type MessageStatus = 'sent' | 'delivered' | 'read';

/** The contract's Message: a history row without its conversation key, with its derived status. */
export type Message = Omit<HistoryRow, 'conversation'> & { status: MessageStatus };

export interface ReadDeps {
  messages: MessagesRepository;
  recalls: Pick<RecallsRepository, 'record' | 'find'>;
  offline: Pick<OfflineRepository, 'insertRecallEvents'>;
  conversations: ConversationsRepository;
  cursors: CursorsRepository;
  members: Pick<GroupMembersCache, 'isMember'>;
  hot: HotHistory;
  metrics: Pick<Metrics, 'historyReads'>;
  redis: Redis;
  publisher: Publisher;
  assertUser(userId: string): Promise<void>;
  assertGroup(groupId: string): Promise<void>;
  /** hooks.after_recall_url: queues the recall's event (im.hook; worker-push sends it, at least once). */
  afterRecall?(recall: Recall): Promise<void>;
}

function statusOf(seq: number, cursor: { delivered_seq: number; read_seq: number } | undefined): MessageStatus {
  if (!cursor) return 'sent';
  return seq <= cursor.read_seq ? 'read' : seq <= cursor.delivered_seq ? 'delivered' : 'sent';
}

/** History, search, conversation lists and recall: the read side of CONTRACT.md section 3. */
export function readService(d: ReadDeps) {
  /**
   * Status follows cursors: a single-chat message's receiver cursor; for a group message, the best
   * cursor any member reached (conversation_state).
   */
  async function withStatus(rows: readonly HistoryRow[]): Promise<Message[]> {
    const singles = rows.flatMap((r) => (r.group_id === null ? [{ user_id: r.receiver_id, conversation: r.conversation }] : []));
    const groups = [...new Set(rows.filter((r) => r.group_id !== null).map((r) => r.conversation))];
    const [cursors, states] = await Promise.all([d.cursors.get(singles), d.conversations.states(groups)]);
    return rows.map((r) => {
      const cursor =
        r.group_id === null
          ? cursors.get(`${r.receiver_id}/${r.conversation}`)
          : (() => {
              const s = states.get(r.conversation);
              return s ? { delivered_seq: s.best_delivered_seq, read_seq: s.best_read_seq } : undefined;
            })();
      return {
        message_id: r.message_id,
        seq: r.seq,
        sender_id: r.sender_id,
        receiver_id: r.receiver_id,
        group_id: r.group_id,
        content: r.content,
        message_type: r.message_type,
        status: statusOf(r.seq, cursor),
        created_at: r.created_at,
      };
    });
  }

  async function conversationFor(userId: string, target: { peer_id: string } | { group_id: string }): Promise<string> {
    await d.assertUser(userId);
    if ('peer_id' in target) {
      await d.assertUser(target.peer_id);
      return conversationKeys.single(userId, target.peer_id);
    }
    await d.assertGroup(target.group_id);
    if (!(await d.members.isMember(target.group_id, userId))) {
      throw permissionDenied('NOT_A_MEMBER', `user ${userId} is not a member of group ${target.group_id}`);
    }
    return conversationKeys.group(target.group_id);
  }

  return {
    async history(userId: string, target: { peer_id: string } | { group_id: string }, beforeSeq: number | null, limit: number) {
      const conversation = await conversationFor(userId, target);
      // The first page of a conversation being read comes from the hot-conversation cache when it can.
      const cached = beforeSeq === null ? await d.hot.read(conversation, limit) : undefined;
      if (beforeSeq === null) d.metrics.historyReads.inc({ source: cached ? 'cache' : 'mysql' });
      const page = cached ? { rows: cached.rows.map((r) => ({ ...r, conversation })), hasMore: cached.hasMore } : await d.messages.page(conversation, beforeSeq, limit);
      return { messages: await withStatus(page.rows), has_more: page.hasMore };
    },

    /** A page of matches, newest first, after the position `after` of the previous page; `next` is this page's last. */
    async search(userId: string, keyword: string, start: number, end: number, limit: number, after: readonly [number, string] | null = null) {
      await d.assertUser(userId);
      const conversations = await d.conversations.allOf(userId);
      const found = await d.messages.search(conversations, keyword, start, end, limit + 1, after);
      const rows = found.slice(0, limit);
      const last = rows.at(-1);
      const next = found.length > limit && last ? ([last.created_at, last.message_id] as const) : null;
      return { messages: await withStatus(rows), has_more: next !== null, next };
    },

    /**
     * A page of the user's conversations, most recent first, after the position `after` of the
     * previous page; `next` is this page's last position. A conversation without a last message
     * (all of it recalled) is left out, so a page may hold fewer than `limit`.
     */
    async conversations(userId: string, limit: number, after: readonly [number, string] | null = null) {
      await d.assertUser(userId);
      const found = await d.conversations.recent(userId, limit + 1, after);
      const recent = found.slice(0, limit);
      const lastRow = recent.at(-1);
      const next = found.length > limit && lastRow ? ([lastRow.updated_at, lastRow.conversation] as const) : null;
      const states = await d.conversations.states(recent.map((c) => c.conversation));
      const lastIds = [...states.values()].map((s) => s.last_message_id);
      const [last, own] = await Promise.all([
        d.messages.findMany(lastIds).then(withStatus),
        d.cursors.get(recent.map((c) => ({ user_id: userId, conversation: c.conversation }))),
      ]);
      const byId = new Map(last.map((m) => [m.message_id, m]));
      const conversations = [];
      for (const c of recent) {
        const state = states.get(c.conversation);
        const lastMessage = state && byId.get(state.last_message_id);
        if (!state || !lastMessage) continue;
        const readSeq = own.get(`${userId}/${c.conversation}`)?.read_seq ?? 0;
        conversations.push({
          ...(c.group_id !== null ? { group_id: c.group_id } : { peer_id: c.peer_id }),
          last_message: lastMessage,
          max_seq: state.max_seq,
          read_seq: readSeq,
          unread: Math.max(0, state.max_seq - readSeq),
        });
      }
      return { conversations, has_more: next !== null, next };
    },

    /**
     * Recall by the sender. The recall is recorded in MySQL first (message_recall): from then on
     * it is final, whatever fails next. Then a tombstone (delivery still in flight skips the
     * message), the history row and every pending offline row go, the hot cache is dropped, the
     * conversation's last message is refreshed, and the recipients get a recall event. Every step
     * is idempotent, so a repeated DELETE (after a failure half-way, or a lost answer) finds the
     * recorded recall when the history row is gone, redoes them all and answers as the first did.
     */
    async recall(messageId: string, userId: string): Promise<{ deleted: true }> {
      const [row] = await d.messages.findMany([messageId]);
      let recall: Recall;
      if (row) {
        if (row.sender_id !== userId) throw permissionDenied('NOT_THE_SENDER', `only the sender (${row.sender_id}) can recall message ${messageId}`);
        recall = await d.recalls.record(row, Date.now());
      } else {
        const [recorded] = await d.recalls.find([messageId]);
        if (!recorded) throw notFound('UNKNOWN_MESSAGE', `message ${messageId} is not in history (a message sent a moment ago may still be on its way; retry)`);
        if (recorded.sender_id !== userId) throw permissionDenied('NOT_THE_SENDER', `only the sender (${recorded.sender_id}) can recall message ${messageId}`);
        recall = recorded;
      }
      await markRecalled(d.redis, messageId);
      await d.messages.remove(messageId);
      // Devices that may have seen it learn of the recall in their sync (online: the event below).
      await d.offline.insertRecallEvents(messageId, recall.conversation, recall.group_id !== null ? { group: recall.group_id } : { users: [recall.sender_id, recall.receiver_id] }, Date.now());
      await d.hot.forget(recall.conversation);
      const [state] = (await d.conversations.states([recall.conversation])).values();
      if (state?.last_message_id === messageId) await d.conversations.refreshLast(recall.conversation);
      // The first recall's time: a repeated event is the same event (gateways drop it by message_id).
      const event = recallEvent(recall, recall.recalled_at);
      // A single chat's recall also reaches the sender's other devices, on user:{sender}.
      const extra: [string, string][] = recall.group_id === null && recall.sender_id !== recall.receiver_id ? [[channels.user(recall.sender_id), event]] : [];
      await d.publisher.publishMany([[recallChannel(recall), event], ...extra]);
      // Last, so a failure answers 503 and the repeat redoes every step, this one included.
      if (d.afterRecall) await d.afterRecall(recall);
      return { deleted: true };
    },
  };
}

export type ReadService = ReturnType<typeof readService>;
