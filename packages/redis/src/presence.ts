import type { Redis } from 'ioredis';
import { mgetAny } from './connections';
import { keys } from './keys';

/**
 * Presence is per device, in one string key per user (so delivery still reads a whole round's
 * users with one MGET): `device|gateway|expires_ms` entries joined by ",". Each device expires on
 * its own; the key lives as long as its longest entry. A value without "|" is the single-device
 * format of earlier releases: the `default` device on that gateway, until the key expires.
 * Device and gateway ids never contain "|" or "," (their patterns in the contract).
 */
const PARSE_LUA = `
local function entries(cur, now)
  local out = {}
  if not cur then return out end
  if not string.find(cur, '|', 1, true) then
    local pttl = redis.call('PTTL', KEYS[1])
    if pttl < 0 then pttl = 60000 end
    out[#out + 1] = { 'default', cur, now + pttl }
    return out
  end
  for entry in string.gmatch(cur, '[^,]+') do
    local d, g, e = string.match(entry, '^([^|]+)|([^|]+)|(%d+)$')
    if d and tonumber(e) > now then out[#out + 1] = { d, g, tonumber(e) } end
  end
  return out
end
local function write(list, now)
  if #list == 0 then redis.call('DEL', KEYS[1]) return end
  local parts, longest = {}, now + 1
  for i, e in ipairs(list) do
    parts[i] = e[1] .. '|' .. e[2] .. '|' .. string.format('%d', e[3])
    if e[3] > longest then longest = e[3] end
  end
  redis.call('SET', KEYS[1], table.concat(parts, ','), 'PX', longest - now)
end
`;

/** ARGV: now, device, gateway, ttl_ms. Returns 1 when the device was not online before. */
const SET_LUA = `${PARSE_LUA}
local now = tonumber(ARGV[1])
local kept, fresh = {}, 1
for _, e in ipairs(entries(redis.call('GET', KEYS[1]), now)) do
  if e[1] == ARGV[2] then fresh = 0 else kept[#kept + 1] = e end
end
kept[#kept + 1] = { ARGV[2], ARGV[3], now + tonumber(ARGV[4]) }
write(kept, now)
return fresh`;

/**
 * ARGV: now, device ('' for every device), gateway ('' for any). Removes the device's entry only
 * while it still names that gateway (a late disconnect must not erase a newer connection).
 * Returns the devices removed.
 */
const CLEAR_LUA = `${PARSE_LUA}
local now = tonumber(ARGV[1])
local kept, removed = {}, {}
for _, e in ipairs(entries(redis.call('GET', KEYS[1]), now)) do
  if (ARGV[2] == '' or e[1] == ARGV[2]) and (ARGV[3] == '' or e[2] == ARGV[3]) then removed[#removed + 1] = e[1] else kept[#kept + 1] = e end
end
if #removed > 0 then write(kept, now) end
return removed`;

/** The online devices of one user: device id to gateway id. */
export type OnlineDevices = Map<string, string>;

/** Parses a presence value (see above) at `now`. */
export function parsePresence(value: string, now: number): OnlineDevices {
  const out: OnlineDevices = new Map();
  if (!value.includes('|')) {
    out.set('default', value);
    return out;
  }
  for (const entry of value.split(',')) {
    const [device, gateway, expires] = entry.split('|');
    if (device && gateway && Number(expires) > now) out.set(device, gateway);
  }
  return out;
}

export interface Presence {
  /** Marks the device online on the gateway for ttlS; resolves to true when it was not online before. */
  set(userId: string, deviceId: string, gatewayId: string, ttlS: number, now?: number): Promise<boolean>;
  /**
   * Removes presence: of one device (or every device of the user when deviceId is undefined);
   * with `gatewayId`, only entries that still name that gateway (one atomic compare-and-delete).
   * Resolves to the devices removed.
   */
  clear(userId: string, deviceId?: string, gatewayId?: string, now?: number): Promise<string[]>;
  /** The online devices of each online user among userIds (one MGET; one per slot on a cluster). */
  lookup(userIds: readonly string[], now?: number): Promise<Map<string, OnlineDevices>>;
  /** Devices online now, fleet-wide (the gauge; drops the expired from the index as it counts). */
  countOnline(now?: number): Promise<number>;
}

export function presence(redis: Redis): Presence {
  return {
    async set(userId, deviceId, gatewayId, ttlS, now = Date.now()) {
      const fresh = Number(await redis.eval(SET_LUA, 1, keys.presence(userId), now, deviceId, gatewayId, ttlS * 1000)) === 1;
      await redis.zadd(keys.onlineDevices, now + ttlS * 1000, `${userId}|${deviceId}`);
      return fresh;
    },
    async clear(userId, deviceId, gatewayId, now = Date.now()) {
      const removed = (await redis.eval(CLEAR_LUA, 1, keys.presence(userId), now, deviceId ?? '', gatewayId ?? '')) as string[];
      if (removed.length > 0) await redis.zrem(keys.onlineDevices, ...removed.map((d) => `${userId}|${d}`));
      return removed;
    },
    async countOnline(now = Date.now()) {
      await redis.zremrangebyscore(keys.onlineDevices, '-inf', now);
      return redis.zcard(keys.onlineDevices);
    },
    async lookup(userIds, now = Date.now()) {
      const online = new Map<string, OnlineDevices>();
      if (userIds.length === 0) return online;
      const values = await mgetAny(redis, userIds.map(keys.presence));
      values.forEach((v, i) => {
        if (v === null) return;
        const devices = parsePresence(v, now);
        if (devices.size > 0) online.set(userIds[i]!, devices);
      });
      return online;
    },
  };
}
