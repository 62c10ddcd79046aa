import type { SyncItem } from '@im/db';
import { deviceParams, syncQuery } from '../routes/devices.route';
import { userParams } from '../routes/params';
import { parse } from '../routes/parse';
import type { Services } from '../services';
import { offlineOut } from './inbox-rpcs';
import type { Rpcs } from './server';
import { given, id } from './wire';

function itemOut(i: SyncItem) {
  const base = { kind: i.kind, id: i.id, created_at: String(i.created_at) };
  if (i.kind === 'message') {
    const { kind: _k, origin_device_id, ...message } = i;
    return { ...base, message: offlineOut(message), origin_device_id: origin_device_id ?? '' };
  }
  if (i.kind === 'read') return { ...base, conversation: i.conversation, seq: String(i.seq), origin_device_id: i.origin_device_id ?? '' };
  return { ...base, message_id: i.message_id, conversation: i.conversation ?? '' };
}

/** ListDevices, RemoveDevice and SyncDevice: GET and DELETE /v1/users/{id}/devices..., and a device's sync. */
export function devicesRpcs(s: Services): Rpcs {
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
      return { items: page.items.map(itemOut), cursor: page.cursor ?? '0', has_more: page.has_more };
    },
  };
}
