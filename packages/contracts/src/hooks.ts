import { z } from 'zod';
import { ID_PATTERN } from './ids';
import { acceptedMessageSchema, type AcceptedMessage } from './messages';

/** A recall, as the after_recall event carries it. */
export interface RecallNotice {
  message_id: string;
  conversation: string;
  seq: number;
  sender_id: string;
  receiver_id: string | null;
  group_id: string | null;
  recalled_at: number;
}

/**
 * An im.hook job: an event for the deployment's backend, POSTed signed by worker-push (the
 * outbound role), at least once: after_send for the messages of one persist job once they are
 * stored, after_recall for one recall.
 */
export type HookJob = { event: 'after_send'; messages: AcceptedMessage[] } | { event: 'after_recall'; recall: RecallNotice };

const id = z.string().regex(ID_PATTERN);
export const hookJobSchema: z.ZodType<HookJob> = z.union([
  z.object({ event: z.literal('after_send'), messages: z.array(acceptedMessageSchema).min(1) }),
  z.object({
    event: z.literal('after_recall'),
    recall: z.object({ message_id: id, conversation: z.string().min(3), seq: z.number().int().positive(), sender_id: id, receiver_id: id.nullable(), group_id: id.nullable(), recalled_at: z.number().int().positive() }),
  }),
]);
