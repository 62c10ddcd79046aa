import type { MessageType } from '@im/contracts';
import { sendParsers } from '../routes/messages.route';
import type { Services } from '../services';
import { offlineOut, pullOffline } from './inbox-rpcs';
import type { Rpcs } from './server';
import { id, text, type Req } from './wire';

// The seed's mpim.MessageService (proto/im_message.proto), kept for the clients written against it;
// new clients use im.message.v1 (docs/contract.md section 3, gRPC).

const TYPES: Record<string, MessageType> = { TEXT: 'text', IMAGE: 'image', FILE: 'file', VOICE: 'voice' };
const ENUM_OF: Record<MessageType, string> = { text: 'TEXT', image: 'IMAGE', file: 'FILE', voice: 'VOICE' };
const OK = { code: 0, msg: 'OK' };

/** proto3 has no "absent": empty strings and zero ids mean not given. */
function sendBody(r: Req, kind: 'single' | 'group') {
  return {
    sender_id: id(r.sender_id),
    ...(kind === 'single' ? { receiver_id: id(r.receiver_id) } : { group_id: id(r.group_id) }),
    content: r.content,
    message_type: TYPES[r.message_type as string] ?? r.message_type,
    client_msg_id: text(r.client_msg_id),
  };
}

/** SendMessage, SendGroupMessage and PullOfflineMessage of the seed's protocol. */
export function legacyRpcs(s: Services): Rpcs {
  const parsers = sendParsers(s.maxMessageLength);
  const sendAs = async (r: Req, kind: 'single' | 'group') => {
    const raw = sendBody(r, kind);
    const sent = await s.send.send(kind === 'single' ? { kind, ...parsers.single(raw) } : { kind, ...parsers.group(raw) });
    return { result: OK, message_id: sent.message_id, timestamp: String(sent.timestamp), seq: String(sent.seq) };
  };
  return {
    SendMessage: (r) => sendAs(r, r.group_id && r.group_id !== '0' ? 'group' : 'single'),
    SendGroupMessage: (r) => sendAs(r, 'group'),
    PullOfflineMessage: async (r) => {
      const page = await pullOffline(s, r);
      return {
        result: OK,
        has_more: page.has_more,
        // v1's OfflineMessage, plus the seed's `id` and its message type names.
        messages: page.messages.map((m) => ({ id: m.id, ...offlineOut(m), message_type: ENUM_OF[m.message_type] })),
      };
    },
  };
}
