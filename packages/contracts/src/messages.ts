import { z } from 'zod';
import { ID_PATTERN, parseId } from './ids';

export const MESSAGE_TYPES = ['text', 'image', 'file', 'voice'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const CLIENT_MSG_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A device id, named by the gateway: the same characters as a client_msg_id. */
export const DEVICE_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
/** The device of the single-device routes (presence, acks and the offline pull without a device_id). */
export const DEFAULT_DEVICE = 'default';

/** A device's platform, as its gateway names it. */
export const PLATFORMS = ['ios', 'android', 'web', 'desktop', 'unknown'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** An optional device_id of a request; absent means the `default` device. */
export const deviceIdField = z.unknown().transform((v, ctx) => {
  if (typeof v === 'string' && DEVICE_ID.test(v)) return v;
  ctx.addIssue({ code: 'custom', message: `device_id must be 1 to 64 characters of A-Z a-z 0-9 _ . : - (got ${describeValue(v)})` });
  return z.NEVER;
});

/** An id field of a request: decimal string or safe integer, canonicalised to a string. */
export const idField = (name: string) =>
  z.unknown().transform((v, ctx) => {
    const id = parseId(v);
    if (id === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `${name} must be a positive integer below 2^63, as a decimal string or a safe JSON integer (got ${describeValue(v)})`,
      });
      return z.NEVER;
    }
    return id;
  });

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return v.length > 24 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  return `a ${Array.isArray(v) ? 'list' : typeof v}`;
}

/** Counts Unicode characters (code points), the unit of max_message_length. */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export function contentField(maxLength: number) {
  return z.unknown().transform((v, ctx) => {
    if (typeof v !== 'string') {
      ctx.addIssue({ code: 'custom', message: `content must be a string of 1 to ${maxLength} characters (got ${describeValue(v)})` });
      return z.NEVER;
    }
    const n = codePointLength(v);
    if (n < 1 || n > maxLength) {
      ctx.addIssue({ code: 'custom', message: `content must be 1 to ${maxLength} characters long (got ${n})` });
      return z.NEVER;
    }
    if (!v.isWellFormed()) {
      ctx.addIssue({ code: 'custom', message: 'content must be valid Unicode text (it contains an unpaired surrogate)' });
      return z.NEVER;
    }
    return v;
  });
}

const messageTypeField = z
  .unknown()
  .optional()
  .transform((v, ctx): MessageType => {
    if (v === undefined) return 'text';
    if (typeof v === 'string' && (MESSAGE_TYPES as readonly string[]).includes(v)) return v as MessageType;
    ctx.addIssue({ code: 'custom', message: `message_type must be one of ${MESSAGE_TYPES.join(', ')} (got ${describeValue(v)})` });
    return z.NEVER;
  });

const clientMsgIdField = z
  .unknown()
  .optional()
  .transform((v, ctx): string | null => {
    if (v === undefined || v === null) return null;
    if (typeof v === 'string' && CLIENT_MSG_ID.test(v)) return v;
    ctx.addIssue({ code: 'custom', message: `client_msg_id must be 1 to 64 characters of A-Z a-z 0-9 _ . : - (got ${describeValue(v)})` });
    return z.NEVER;
  });

/** Request schemas depend on max_message_length, so they are built once from config. */
export function sendSchemas(maxMessageLength: number) {
  const content = contentField(maxMessageLength);
  const single = z
    .object({
      sender_id: idField('sender_id'),
      receiver_id: idField('receiver_id'),
      content,
      message_type: messageTypeField,
      client_msg_id: clientMsgIdField,
      device_id: deviceIdField.optional(),
    })
    .strict();
  const group = z
    .object({
      sender_id: idField('sender_id'),
      group_id: idField('group_id'),
      content,
      message_type: messageTypeField,
      client_msg_id: clientMsgIdField,
      device_id: deviceIdField.optional(),
    })
    .strict();
  return { single, group };
}

const SINGLE_KEYS = new Set(['sender_id', 'receiver_id', 'content', 'message_type', 'client_msg_id', 'device_id']);
const GROUP_KEYS = new Set(['sender_id', 'group_id', 'content', 'message_type', 'client_msg_id', 'device_id']);

/**
 * The hot path's validation: a plain check of a send body that returns the parsed send when the
 * body is valid, and undefined otherwise. A caller falls back to the zod schemas for anything
 * this refuses, so an invalid body still gets the schema's exact error text; a valid one (nearly
 * every request) skips zod's per-request work. Both must accept exactly the same bodies
 * (contracts.test.ts holds them against each other).
 */
export function fastSendParsers(maxMessageLength: number) {
  function common(b: Record<string, unknown>) {
    const sender = parseId(b.sender_id);
    if (sender === undefined) return undefined;
    const content = b.content;
    if (typeof content !== 'string' || content.length === 0) return undefined;
    // A string of maxMessageLength UTF-16 units or fewer has at most that many code points.
    if (content.length > maxMessageLength && codePointLength(content) > maxMessageLength) return undefined;
    if (!content.isWellFormed()) return undefined;
    const type = b.message_type;
    let messageType: MessageType = 'text';
    if (type !== undefined) {
      if (typeof type !== 'string' || !(MESSAGE_TYPES as readonly string[]).includes(type)) return undefined;
      messageType = type as MessageType;
    }
    const cmid = b.client_msg_id;
    let clientMsgId: string | null = null;
    if (cmid !== undefined && cmid !== null) {
      if (typeof cmid !== 'string' || !CLIENT_MSG_ID.test(cmid)) return undefined;
      clientMsgId = cmid;
    }
    const device = b.device_id;
    if (device !== undefined && (typeof device !== 'string' || !DEVICE_ID.test(device))) return undefined;
    return { sender_id: sender, content, message_type: messageType, client_msg_id: clientMsgId, ...(device === undefined ? {} : { device_id: device }) };
  }
  const plain = (v: unknown, allowed: Set<string>): v is Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    for (const k in v) if (!allowed.has(k)) return false;
    return true;
  };
  return {
    single(v: unknown): SingleSend | undefined {
      if (!plain(v, SINGLE_KEYS)) return undefined;
      const receiver = parseId(v.receiver_id);
      const c = receiver === undefined ? undefined : common(v);
      return c && { sender_id: c.sender_id, receiver_id: receiver!, content: c.content, message_type: c.message_type, client_msg_id: c.client_msg_id, ...(c.device_id === undefined ? {} : { device_id: c.device_id }) };
    },
    group(v: unknown): GroupSend | undefined {
      if (!plain(v, GROUP_KEYS)) return undefined;
      const group = parseId(v.group_id);
      const c = group === undefined ? undefined : common(v);
      return c && { sender_id: c.sender_id, group_id: group!, content: c.content, message_type: c.message_type, client_msg_id: c.client_msg_id, ...(c.device_id === undefined ? {} : { device_id: c.device_id }) };
    },
  };
}

export type SingleSend = z.output<ReturnType<typeof sendSchemas>['single']>;
export type GroupSend = z.output<ReturnType<typeof sendSchemas>['group']>;
export type SendRequest = ({ kind: 'single' } & SingleSend) | ({ kind: 'group' } & GroupSend);

/** Turns zod issues into one sentence naming each field, for the contract's error message. */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') return `${prefix}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
      if (issue.code === 'invalid_type' && issue.path.length === 0) return `${prefix}the body must be a JSON object`;
      if (issue.code === 'custom') return prefix + issue.message;
      return `${prefix}${issue.path.map(String).join('.')}: ${issue.message}`;
    })
    .join('; ');
}

interface AcceptedFields {
  message_id: string;
  seq: number;
  sender_id: string;
  content: string;
  message_type: MessageType;
  /** Milliseconds since the epoch, taken at ingest. */
  created_at: number;
  client_msg_id: string | null;
  /** The sender's device the send came from (its `device_id`); absent or null: the `default` device. */
  sender_device_id?: string | null;
}

/** A single-chat message: to one receiver. */
export interface AcceptedSingle extends AcceptedFields {
  receiver_id: string;
  group_id: null;
}

/** A group message: to every member of the group but its sender. */
export interface AcceptedGroup extends AcceptedFields {
  receiver_id: null;
  group_id: string;
}

/**
 * A message as it moves through the pipeline once ingest accepted it (id and seq assigned), up to
 * history: single or group, told apart by `group_id`.
 */
export type AcceptedMessage = AcceptedSingle | AcceptedGroup;

/** The same type without some fields, kept a union (TypeScript's Omit merges the two sides). */
export type OmitAccepted<K extends keyof AcceptedFields> = AcceptedMessage extends infer M ? (M extends AcceptedMessage ? Omit<M, K> : never) : never;

const idString = z.string().regex(ID_PATTERN);
const acceptedFields = {
  message_id: idString,
  seq: z.number().int().positive(),
  sender_id: idString,
  content: z.string().min(1),
  message_type: z.enum(MESSAGE_TYPES),
  created_at: z.number().int().positive(),
  client_msg_id: z.string().nullable(),
  sender_device_id: z.string().regex(DEVICE_ID).nullable().optional(),
};
export const acceptedGroupSchema: z.ZodType<AcceptedGroup> = z.object({ ...acceptedFields, receiver_id: z.null(), group_id: idString });
export const acceptedMessageSchema: z.ZodType<AcceptedMessage> = z.union([z.object({ ...acceptedFields, receiver_id: idString, group_id: z.null() }), acceptedGroupSchema]);

/** The Pub/Sub payload on user:{id} (CONTRACT.md section 4). */
export function messageEvent(m: AcceptedMessage): string {
  return JSON.stringify({
    event: 'message',
    message_id: m.message_id,
    seq: m.seq,
    sender_id: m.sender_id,
    receiver_id: m.receiver_id,
    group_id: m.group_id,
    content: m.content,
    message_type: m.message_type,
    timestamp: m.created_at,
    status: 'sent',
    client_msg_id: m.client_msg_id,
    sender_device_id: m.sender_device_id ?? null,
  });
}

/**
 * The read event on user:{id} (docs/contract.md): the user read `conversation` up to `seq` on
 * the device `device_id`; the user's other devices update their unread counts.
 */
export function readEvent(userId: string, conversation: string, seq: number, deviceId: string, now: number): string {
  return JSON.stringify({ event: 'read', user_id: userId, conversation, seq, device_id: deviceId, timestamp: now });
}

/** The receipt event on user:{peer} of a single chat (receipts.notify_peer): `reader_id` read up to `seq`. */
export function receiptEvent(reader: string, conversation: string, seq: number, now: number): string {
  return JSON.stringify({ event: 'receipt', reader_id: reader, conversation, seq, status: 'read', timestamp: now });
}

/** The recall event (CONTRACT.md section 4): on user:{receiver} for a single chat, group:{id} for a group. */
export function recallEvent(m: OmitAccepted<'client_msg_id' | 'content' | 'message_type' | 'created_at'>, now: number): string {
  return JSON.stringify({
    event: 'recall',
    message_id: m.message_id,
    seq: m.seq,
    sender_id: m.sender_id,
    receiver_id: m.receiver_id,
    group_id: m.group_id,
    timestamp: now,
  });
}

/** The channel a message's recall goes to. */
export function recallChannel(m: { receiver_id: string; group_id: null } | { receiver_id: null; group_id: string }): string {
  return m.group_id !== null ? channels.group(m.group_id) : channels.user(m.receiver_id);
}

/** A system-wide notification on system:notification. */
export function notificationEvent(content: string, now: number): string {
  return JSON.stringify({ event: 'notification', content, timestamp: now });
}

export const channels = {
  user: (userId: string) => `user:${userId}`,
  group: (groupId: string) => `group:${groupId}`,
  notification: 'system:notification',
} as const;
