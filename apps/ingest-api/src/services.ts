import type { ConversationsRepository, CursorsRepository, DevicesRepository, GroupsRepository, MessagesRepository, OfflineRepository, PushRepository, Recall, RecallsRepository, UsersRepository } from '@im/db';
import type { Metrics } from '@im/metrics';
import type { GroupMembersCache, HotHistory, Presence, Publisher, Redis, UnackedTracker } from '@im/redis';
import { devicesService } from './devices/devices.service';
import { directoryService } from './directory/directory.service';
import { inboxService } from './inbox/inbox.service';
import { presenceService } from './presence/presence.service';
import { pushSettingsService } from './push/push-settings.service';
import { readService } from './read/read.service';
import type { KnownIds } from './send/known-ids';
import type { SendService } from './send/send.service';

export interface ServiceDeps {
  send: SendService;
  users: UsersRepository;
  knownUsers: KnownIds;
  groups: GroupsRepository;
  knownGroups: KnownIds;
  members: GroupMembersCache;
  messages: MessagesRepository;
  /** Recalls, durable in MySQL. */
  recalls: RecallsRepository;
  offline: OfflineRepository;
  /** The registry of users' devices. */
  devices: DevicesRepository;
  /** Push tokens and mutes (worker-push reads them). */
  push: PushRepository;
  cursors: CursorsRepository;
  conversations: ConversationsRepository;
  presence: Presence;
  /** The newest messages of conversations being read (history_cache). */
  hot: HotHistory;
  unacked: UnackedTracker;
  redis: Redis;
  /** Events on the contract's channels (PUBLISH or SPUBLISH: queue.pubsub). */
  publisher: Publisher;
  metrics: Metrics;
  maxMessageLength: number;
  /** A fresh id from the message-id generator (events in devices' sync are ordered with messages). */
  nextEventId(): string;
  /** devices.* settings. */
  deviceLimits: { maxPerUser: number; newDeviceWindowDays: number; newDeviceMaxMessages: number };
  /** receipts.notify_peer. */
  notifyPeer: boolean;
  /** hooks.after_recall_url: queues a recall's after_recall event. */
  afterRecall?(recall: Recall): Promise<void>;
}

/**
 * The use cases behind the routes, one room each: send/ (admission), read/ (history, search,
 * conversations, recall), directory/ (users, groups, members), inbox/ (offline pull, acks),
 * devices/ (a user's devices and each device's sync), presence/ (presence, notifications).
 * Routes only parse, call and answer.
 */
export function createServices(d: ServiceDeps) {
  const directory = directoryService(d);
  const { assertUser, assertGroup } = directory;
  const devices = devicesService({ ...d, assertUser, limits: d.deviceLimits });
  return {
    /** Longest content accepted, in characters (message_limits.max_message_length): the routes' parsers need it. */
    maxMessageLength: d.maxMessageLength,
    send: d.send,
    read: readService({ ...d, assertUser, assertGroup }),
    ...directory,
    ...inboxService({ ...d, assertUser }),
    ...devices,
    ...presenceService({ ...d, registerDevice: devices.registerDevice }),
    ...pushSettingsService({ push: d.push, assertUser, assertGroup }),
  };
}

export type Services = ReturnType<typeof createServices>;
