import type { OfflineMessage } from '@im/db';
import { ackBody } from '../routes/acks.route';
import { offlinePullQuery } from '../routes/offline.route';
import { userParams } from '../routes/params';
import { parse } from '../routes/parse';
import type { Services } from '../services';
import type { Rpcs } from './server';
import { given, id, messageTypeOut, text, type Req } from './wire';

/** A pull's fields through the HTTP pull's parsers (mpim's PullOfflineMessage and v1's PullOfflineMessages). */
export async function pullOffline(s: Services, r: Req) {
  const { user_id } = parse(userParams, { user_id: id(r.user_id) });
  const q = parse(offlinePullQuery, { limit: given(r.limit), last_message_id: given(r.last_message_id) });
  return s.pullOffline(user_id, q.last_message_id, q.limit);
}

const ACK_STATUS: Record<string, string | undefined> = { ACK_STATUS_UNSPECIFIED: undefined, ACK_STATUS_DELIVERED: 'delivered', ACK_STATUS_READ: 'read' };

export function offlineOut(m: OfflineMessage) {
  return {
    message_id: m.message_id,
    seq: String(m.seq),
    sender_id: m.sender_id,
    sender_name: m.sender_name ?? '',
    group_id: m.group_id ?? '0',
    group_name: m.group_name ?? '',
    content: m.content,
    message_type: messageTypeOut(m.message_type),
    created_at: String(m.created_at),
  };
}

/** PullOfflineMessages and AckMessages: GET /v1/users/{id}/offline-messages and POST /v1/acks. */
export function inboxRpcs(s: Services): Rpcs {
  return {
    PullOfflineMessages: async (r) => {
      const page = await pullOffline(s, r);
      return { messages: page.messages.map(offlineOut), has_more: page.has_more };
    },
    AckMessages: async (r) => {
      const status = typeof r.status === 'string' && r.status in ACK_STATUS ? ACK_STATUS[r.status] : r.status;
      const b = parse(ackBody, { user_id: id(r.user_id), message_ids: r.message_ids, status, device_id: text(r.device_id) });
      return s.ack(b.user_id, b.message_ids, b.status, b.device_id);
    },
  };
}
