import type { SyncItem } from '@im/db';
import { deviceParams, syncQuery } from '../routes/devices.route';
import { userParams } from '../routes/params';
import { parse } from '../routes/parse';
import type { Services } from '../services';
import { offlineOut } from './inbox-rpcs';
import type { Rpcs } from './server';
import { given, id } from './wire';

/** A sync item as the v1 SyncItem: its id and time, and one of message, read or recall. */
function syncItemOut(item: SyncItem) {
  const head = { id: item.id, created_at: String(item.created_at) };
  switch (item.kind) {
    case 'message': {
      const { kind: _kind, origin_device_id, ...message } = item;
      return { ...head, message: { message: offlineOut(message), origin_device_id: origin_device_id ?? '' } };
    }
    case 'read':
      return { ...head, read: { conversation: item.conversation, seq: String(item.seq), origin_device_id: item.origin_device_id ?? '' } };
    case 'recall':
      return { ...head, recall: { message_id: item.message_id, conversation: item.conversation ?? '' } };
  }
}

/** ListDevices, RemoveDevice and SyncDevice: GET and DELETE /v1/users/{id}/devices[/{device_id}], and the device's sync. */
export function deviceRpcs(s: Services): Rpcs {
  return {
    ListDevices: async (r) => {
      const { user_id } = parse(userParams, { user_id: id(r.user_id) });
      const { devices } = await s.listDevices(user_id);
      return {
        devices: devices.map((d) => ({
          device_id: d.device_id,
          platform: d.platform,
          created_at: String(d.created_at ?? 0),
          last_seen_at: String(d.last_seen_at ?? 0),
          online: d.online,
          gateway_id: d.gateway_id ?? '',
        })),
      };
    },
    RemoveDevice: async (r) => {
      const { user_id, device_id } = parse(deviceParams, { user_id: id(r.user_id), device_id: r.device_id });
      await s.removeDevice(user_id, device_id);
      return {};
    },
    SyncDevice: async (r) => {
      const { user_id, device_id } = parse(deviceParams, { user_id: id(r.user_id), device_id: r.device_id });
      const q = parse(syncQuery, { limit: given(r.limit), cursor: given(r.cursor) });
      const page = await s.sync(user_id, device_id, q.cursor, q.limit);
      return { items: page.items.map(syncItemOut), cursor: page.cursor ?? '0', has_more: page.has_more };
    },
  };
}
