import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ID_PATTERN } from './ids';
import { acceptedMessageSchema, type AcceptedMessage } from './messages';

import { DEVICE_ID } from './messages';

/** A device of a user, as push tokens name it: the devices' own pattern (messages.ts DEVICE_ID). */
export const DEVICE_ID_PATTERN = DEVICE_ID;

/** Push providers: FCM HTTP v1, APNs (HTTP/2, token auth), or the deployment's signed webhook. */
export const PUSH_PLATFORMS = ['fcm', 'apns', 'webhook'] as const;
export type PushPlatform = (typeof PUSH_PLATFORMS)[number];

/** A device a push goes to. */
export interface PushDevice {
  user_id: string;
  device_id: string;
}

/** One offline delivery to a device: what delivery hands to the push queue. */
export interface PushItem extends PushDevice {
  message: AcceptedMessage;
}

/**
 * An im.push job: either offline deliveries to register in their devices' collapse windows (added
 * by worker-delivery), or a device's window to send once it closed (added, delayed by the window,
 * by worker-push itself).
 */
export type PushJob =
  | { deliveries: { message: AcceptedMessage; devices: PushDevice[] }[] }
  | { flush: PushDevice & { window: string } };

const id = z.string().regex(ID_PATTERN);
const device = z.object({ user_id: id, device_id: z.string().regex(DEVICE_ID_PATTERN) });

export const pushJobSchema: z.ZodType<PushJob> = z.union([
  z.object({ deliveries: z.array(z.object({ message: acceptedMessageSchema, devices: z.array(device).min(1) })).min(1) }),
  z.object({ flush: device.extend({ window: z.string().regex(/^\d{1,20}$/) }) }),
]);

/** A short digest of a job's content: a retried producer derives the same job id and adds nothing. */
export function contentDigest(parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\n');
  return h.digest('base64url').slice(0, 22);
}
