import { userParams } from '../routes/params';
import { parse } from '../routes/parse';
import { conversationsPage, conversationsQuery, historyQuery, historyTarget, recallParams, recallQuery, searchPage, searchQuery } from '../routes/read.route';
import type { Services } from '../services';
import type { Rpcs } from './server';
import { given, id, messageOut, text } from './wire';

/** ListConversations, GetHistory, SearchMessages and RecallMessage: the read side of the HTTP API. */
export function readRpcs(s: Services): Rpcs {
  return {
    ListConversations: async (r) => {
      const { user_id } = parse(userParams, { user_id: id(r.user_id) });
      const q = parse(conversationsQuery, { limit: given(r.limit), cursor: text(r.cursor) });
      const { conversations, has_more, next_cursor } = await conversationsPage(s, user_id, q);
      return {
        has_more,
        next_cursor: next_cursor ?? '',
        conversations: conversations.map((c) => ({
          peer_id: 'peer_id' in c ? c.peer_id : '0',
          group_id: 'group_id' in c ? c.group_id : '0',
          last_message: messageOut(c.last_message),
          max_seq: String(c.max_seq),
          read_seq: String(c.read_seq),
          unread: String(c.unread),
        })),
      };
    },
    GetHistory: async (r) => {
      const { user_id } = parse(userParams, { user_id: id(r.user_id) });
      const q = parse(historyQuery, { peer_id: given(r.peer_id), group_id: given(r.group_id), before_seq: given(r.before_seq), limit: given(r.limit) });
      const page = await s.read.history(user_id, historyTarget(q), q.before_seq || null, q.limit);
      return { messages: page.messages.map(messageOut), has_more: page.has_more };
    },
    SearchMessages: async (r) => {
      const { user_id } = parse(userParams, { user_id: id(r.user_id) });
      const asked = { start_time: given(r.start_time), end_time: given(r.end_time) };
      const q = parse(searchQuery, { keyword: r.keyword, ...asked, limit: given(r.limit), cursor: text(r.cursor) });
      // The same scope as HTTP's (the times as asked), so a cursor serves either transport.
      const found = await searchPage(s, user_id, q, { start_time: asked.start_time ?? '', end_time: asked.end_time ?? '' });
      return { messages: found.messages.map(messageOut), has_more: found.has_more, next_cursor: found.next_cursor ?? '' };
    },
    RecallMessage: async (r) => {
      const { message_id } = parse(recallParams, { message_id: id(r.message_id) });
      const { user_id } = parse(recallQuery, { user_id: id(r.user_id) });
      return s.read.recall(message_id, user_id);
    },
  };
}
