import { notificationBody } from '../routes/notifications.route';
import { userParams } from '../routes/params';
import { parse } from '../routes/parse';
import { presenceBody, presenceClearQuery } from '../routes/presence.route';
import type { Services } from '../services';
import type { Rpcs } from './server';
import { id, text } from './wire';

/** SetPresence, ClearPresence and PublishNotification: PUT and DELETE /v1/presence/{id}, POST /v1/notifications. */
export function presenceRpcs(s: Services): Rpcs {
  const notification = notificationBody(s.maxMessageLength);
  return {
    SetPresence: async (r) => {
      const { user_id } = parse(userParams, { user_id: id(r.user_id) });
      const b = parse(presenceBody, { gateway_id: r.gateway_id, ttl_s: r.ttl_s === 0 ? undefined : r.ttl_s, device_id: text(r.device_id), platform: text(r.platform) });
      await s.setPresence(user_id, b.gateway_id, b.ttl_s, b.device_id, b.platform);
      return {};
    },
    ClearPresence: async (r) => {
      const { user_id } = parse(userParams, { user_id: id(r.user_id) });
      const q = parse(presenceClearQuery, { gateway_id: text(r.gateway_id), device_id: text(r.device_id) });
      await s.clearPresence(user_id, q.gateway_id, q.device_id);
      return {};
    },
    PublishNotification: async (r) => {
      const { content } = parse(notification, { content: r.content });
      await s.notify(content);
      return {};
    },
  };
}
