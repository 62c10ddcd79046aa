import { conversationKeys, type PushPlatform } from '@im/contracts';
import type { PushRepository } from '@im/db';
import { invalidArgument } from '@im/errors';

export interface PushSettingsDeps {
  push: PushRepository;
  assertUser(userId: string): Promise<void>;
  assertGroup(groupId: string): Promise<void>;
}

/** A conversation as mutes name it: `s:{a}:{b}` (a single chat; either order) or `g:{group_id}`. */
const CONVERSATION = /^(?:s:([1-9]\d{0,18}):([1-9]\d{0,18})|g:([1-9]\d{0,18}))$/;

/** Push tokens per device and muted conversations per user (worker-push reads both). */
export function pushSettingsService(d: PushSettingsDeps) {
  /** The conversation's canonical key, checked against the user: a single chat must be theirs, a group must exist. */
  async function conversationOf(userId: string, conversation: string): Promise<string> {
    const m = CONVERSATION.exec(conversation);
    if (!m) throw invalidArgument(`conversation must be s:{user_id}:{user_id} or g:{group_id} (got ${JSON.stringify(conversation.slice(0, 48))})`);
    if (m[3] !== undefined) {
      await d.assertGroup(m[3]);
      return conversationKeys.group(m[3]);
    }
    if (m[1] !== userId && m[2] !== userId) throw invalidArgument(`conversation ${conversation} is not one of user ${userId}'s single chats`);
    return conversationKeys.single(m[1]!, m[2]!);
  }

  return {
    async setPushToken(userId: string, deviceId: string, platform: PushPlatform, token: string): Promise<void> {
      await d.assertUser(userId);
      await d.push.setToken({ user_id: userId, device_id: deviceId, platform, token }, Date.now());
    },
    async removePushToken(userId: string, deviceId: string): Promise<void> {
      await d.assertUser(userId);
      await d.push.removeToken({ user_id: userId, device_id: deviceId });
    },
    async mute(userId: string, conversation: string): Promise<void> {
      await d.assertUser(userId);
      await d.push.mute(userId, await conversationOf(userId, conversation), Date.now());
    },
    async unmute(userId: string, conversation: string): Promise<void> {
      await d.assertUser(userId);
      await d.push.unmute(userId, await conversationOf(userId, conversation));
    },
  };
}
