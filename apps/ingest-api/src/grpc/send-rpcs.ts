import { invalidArgument } from '@im/errors';
import { MAX_BATCH, sendBatch, sendParsers } from '../routes/messages.route';
import type { Services } from '../services';
import type { Rpcs } from './server';
import { given, id, sendBody, sendResult, type Req } from './wire';

/** A batch item as the HTTP batch's item: a group send when group_id is set (receiver_id then refused beside it). */
function batchItem(r: Req): Record<string, unknown> {
  const group = given(r.group_id);
  if (group === undefined) return sendBody(r, { receiver_id: id(r.receiver_id) });
  const receiver = given(r.receiver_id);
  return { ...sendBody(r, { group_id: group }), ...(receiver === undefined ? {} : { receiver_id: receiver }) };
}

/** SendMessage, SendGroupMessage and SendBatch: POST /v1/messages, /v1/group-messages and /v1/messages/batch. */
export function sendRpcs(s: Services): Rpcs {
  const parsers = sendParsers(s.maxMessageLength);
  return {
    SendMessage: async (r) => ({ sent: sendResult(await s.send.send({ kind: 'single', ...parsers.single(sendBody(r, { receiver_id: id(r.receiver_id) })) })) }),
    SendGroupMessage: async (r) => ({ sent: sendResult(await s.send.send({ kind: 'group', ...parsers.group(sendBody(r, { group_id: id(r.group_id) })) })) }),
    SendBatch: async (r) => {
      const items = r.messages as Req[];
      if (items.length < 1 || items.length > MAX_BATCH) throw invalidArgument(`messages must hold 1 to ${MAX_BATCH} items (got ${items.length})`);
      const results = await sendBatch(s, parsers, items.map(batchItem));
      return { results: results.map((x) => ('error' in x ? { error: x.error } : { sent: sendResult(x) })) };
    },
  };
}
