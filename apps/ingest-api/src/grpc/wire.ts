import type { MessageType } from '@im/contracts';
import type { Message } from '../read/read.service';

/** A request as proto-loader hands it over (keepCase, longs and enums as strings, defaults filled). */
export type Req = Record<string, unknown>;

/**
 * proto3 has no "absent": a field left out arrives as 0 or "". Optional values (query parameters,
 * cursors, limits) left out become undefined here, so the HTTP parsers apply their defaults.
 */
export function given(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = String(v);
  return s === '0' ? undefined : s;
}

/** A required id as the HTTP parsers take it: one left out stays "0", which they refuse naming the field. */
export function id(v: unknown): string {
  return v === undefined || v === null ? '0' : String(v);
}

/** An optional string: "" means not given. */
export function text(v: unknown): unknown {
  return v === '' ? undefined : v;
}

const TYPE_IN: Record<string, MessageType | undefined> = {
  MESSAGE_TYPE_UNSPECIFIED: undefined,
  MESSAGE_TYPE_TEXT: 'text',
  MESSAGE_TYPE_IMAGE: 'image',
  MESSAGE_TYPE_FILE: 'file',
  MESSAGE_TYPE_VOICE: 'voice',
};
const TYPE_OUT: Record<MessageType, string> = { text: 'MESSAGE_TYPE_TEXT', image: 'MESSAGE_TYPE_IMAGE', file: 'MESSAGE_TYPE_FILE', voice: 'MESSAGE_TYPE_VOICE' };
const STATUS_OUT: Record<Message['status'], string> = { sent: 'MESSAGE_STATUS_SENT', delivered: 'MESSAGE_STATUS_DELIVERED', read: 'MESSAGE_STATUS_READ' };

/** A v1 MessageType as the send parsers take it: UNSPECIFIED is "not given" (text); a value this
 * server does not know (a number) goes through as it is, for the parser to refuse. */
export function messageTypeIn(v: unknown): unknown {
  return typeof v === 'string' && v in TYPE_IN ? TYPE_IN[v] : v;
}

export const messageTypeOut = (t: MessageType): string => TYPE_OUT[t];

/** A send of the v1 protocol as the HTTP body it stands for (the same parsers check it). */
export function sendBody(r: Req, target: { receiver_id: string } | { group_id: string }): Record<string, unknown> {
  return {
    sender_id: id(r.sender_id),
    ...target,
    content: r.content,
    message_type: messageTypeIn(r.message_type),
    client_msg_id: text(r.client_msg_id),
    device_id: text(r.device_id),
  };
}

/** The answer to an accepted send: int64 fields as strings. */
export function sendResult(s: { message_id: string; seq: number; timestamp: number }) {
  return { message_id: s.message_id, seq: String(s.seq), timestamp: String(s.timestamp) };
}

/** The contract's Message as the v1 Message. */
export function messageOut(m: Message) {
  return {
    message_id: m.message_id,
    seq: String(m.seq),
    sender_id: m.sender_id,
    receiver_id: m.receiver_id ?? '0',
    group_id: m.group_id ?? '0',
    content: m.content,
    message_type: TYPE_OUT[m.message_type],
    status: STATUS_OUT[m.status],
    created_at: String(m.created_at),
  };
}
