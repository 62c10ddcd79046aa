import { setTimeout as sleep } from 'node:timers/promises';
import type { SendRequest, StoredMessage } from '@im/contracts';
import { conversationOf, type MessagesRepository } from '@im/db';
import { AppError, notFound, permissionDenied, toAppError } from '@im/errors';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import type { Admission, AdmissionLedger } from './admission';
import type { GroupMembersCache } from '@im/redis';
import type { KnownIds } from './known-ids';

export interface SendResult {
  message_id: string;
  seq: number;
  timestamp: number;
}

export interface SendDeps {
  /** The next message id and the millisecond it encodes; throws when ids cannot be issued safely. */
  nextId(): { id: string; ms: number };
  ledger: AdmissionLedger;
  users: KnownIds;
  groups: KnownIds;
  members: Pick<GroupMembersCache, 'isMember'>;
  messages: MessagesRepository;
  /**
   * Resolves once the message is durably queued for persistence (it rides in a batch job) and its
   * dedupe record, if any, is confirmed.
   */
  enqueue(message: StoredMessage): Promise<void>;
  metrics: Metrics;
  log: Logger;
  /** Sends in flight beyond which ingest answers 503 rather than let memory grow. */
  maxPending: number;
  /** True while worker-persist is far behind (sampled): sends get 503 instead of a longer queue. */
  overloaded(): boolean;
}

const PENDING_DUPLICATE_POLLS = 10;

/**
 * Accepting sends: known users, id, dedupe, rate limit, seq, durable enqueue. The HTTP routes
 * (single and batch) are thin adapters over `send`.
 */
export function sendService(deps: SendDeps) {
  let inFlight = 0;
  // Concurrent sends that find a conversation's counter missing share one MySQL look-up; their
  // continuations run in the order they asked, so seqs still follow request order.
  const seeding = new Map<string, Promise<number>>();
  function seedOf(conversation: string): Promise<number> {
    let p = seeding.get(conversation);
    if (!p) {
      p = deps.messages.maxSeq(conversation).finally(() => seeding.delete(conversation));
      seeding.set(conversation, p);
    }
    return p;
  }

  async function admitWithSeed(req: SendRequest, conversation: string, id: string, ms: number, first: Promise<Admission>): Promise<Admission> {
    const base = { conversation, sender_id: req.sender_id, client_msg_id: req.client_msg_id, message_id: id, created_at: ms };
    let adm = await first;
    for (let poll = 0; ; poll++) {
      if (adm.status === 'seed') {
        adm = await deps.ledger.admit({ ...base, seed: await seedOf(conversation) });
        continue;
      }
      if (adm.status === 'dup' && !adm.accepted) {
        // The first send with this client_msg_id is still being queued: wait for its outcome.
        if (poll >= PENDING_DUPLICATE_POLLS) {
          throw new AppError('UNAVAILABLE', `a send with client_msg_id "${req.client_msg_id}" is still being accepted; retry shortly`);
        }
        await sleep(50 * (poll + 1));
        adm = await deps.ledger.admit(base);
        continue;
      }
      return adm;
    }
  }

  async function complete(req: SendRequest, conversation: string, id: string, ms: number, first: Promise<Admission>): Promise<SendResult> {
    const adm = await admitWithSeed(req, conversation, id, ms, first);
    if (adm.status === 'rate') {
      throw new AppError('RESOURCE_EXHAUSTED', `sender ${req.sender_id} is over its rate limit; retry after 1 s`, { retryAfterS: 1 });
    }
    if (adm.status === 'dup') {
      deps.metrics.messagesIngested.inc({ kind: req.kind, result: 'duplicate' });
      return { message_id: adm.message_id, seq: adm.seq, timestamp: adm.timestamp };
    }
    if (adm.status !== 'ok') throw new Error(`unexpected admission ${adm.status}`);
    const message: StoredMessage = {
      message_id: id,
      seq: adm.seq,
      sender_id: req.sender_id,
      receiver_id: req.kind === 'single' ? req.receiver_id : null,
      group_id: req.kind === 'group' ? req.group_id : null,
      content: req.content,
      message_type: req.message_type,
      created_at: ms,
      client_msg_id: req.client_msg_id,
    };
    try {
      await deps.enqueue(message);
    } catch (err) {
      if (req.client_msg_id !== null) {
        await deps.ledger.release(req.sender_id, req.client_msg_id).catch((e) => deps.log.warn({ err: e }, 'could not release a dedupe record'));
      }
      throw toAppError(err);
    }
    deps.metrics.messagesIngested.inc({ kind: req.kind, result: 'accepted' });
    return { message_id: id, seq: adm.seq, timestamp: ms };
  }

  /**
   * Sends many messages; each gets its result or its own error, in request order. Admissions are
   * issued in request order within one tick, so messages of one conversation get increasing seqs.
   */
  async function sendMany(reqs: readonly SendRequest[]): Promise<(SendResult | AppError)[]> {
    if (deps.overloaded()) {
      deps.metrics.messagesIngested.inc({ kind: 'single', result: 'rejected' }, reqs.length);
      throw new AppError('UNAVAILABLE', 'the persist queue is far behind (queue.max_persist_backlog); nothing was accepted, retry shortly');
    }
    if (inFlight + reqs.length > deps.maxPending) {
      deps.metrics.messagesIngested.inc({ kind: 'single', result: 'rejected' }, reqs.length);
      throw new AppError('UNAVAILABLE', `ingest holds ${inFlight} sends in flight, its limit is ${deps.maxPending}; retry shortly`);
    }
    inFlight += reqs.length;
    try {
      const userIds = new Set<string>();
      const groupIds = new Set<string>();
      for (const r of reqs) {
        userIds.add(r.sender_id);
        if (r.kind === 'single') userIds.add(r.receiver_id);
        else groupIds.add(r.group_id);
      }
      const [unknownUsers, unknownGroups] = await Promise.all([deps.users.unknown([...userIds]), deps.groups.unknown([...groupIds])]);
      const missingUsers = new Set(unknownUsers);
      const missingGroups = new Set(unknownGroups);
      const pairs = new Set<string>();
      for (const r of reqs) {
        if (r.kind === 'group' && !missingGroups.has(r.group_id) && !missingUsers.has(r.sender_id)) pairs.add(`${r.group_id}/${r.sender_id}`);
      }
      const membership = new Map(
        await Promise.all(
          [...pairs].map(async (pair) => {
            const [groupId, senderId] = pair.split('/') as [string, string];
            return [pair, await deps.members.isMember(groupId, senderId)] as const;
          }),
        ),
      );

      const started = reqs.map((req) => {
        try {
          if (missingUsers.has(req.sender_id)) throw notFound(`sender_id ${req.sender_id} is not a known user; register it with PUT /v1/users/${req.sender_id}`);
          let conversation: string;
          if (req.kind === 'single') {
            if (missingUsers.has(req.receiver_id)) throw notFound(`receiver_id ${req.receiver_id} is not a known user; register it with PUT /v1/users/${req.receiver_id}`);
            conversation = conversationOf({ sender_id: req.sender_id, receiver_id: req.receiver_id, group_id: null });
          } else {
            if (missingGroups.has(req.group_id)) throw notFound(`group_id ${req.group_id} is not a known group; create it with PUT /v1/groups/${req.group_id}`);
            if (!membership.get(`${req.group_id}/${req.sender_id}`)) throw permissionDenied(`sender_id ${req.sender_id} is not a member of group ${req.group_id}`);
            conversation = conversationOf({ sender_id: req.sender_id, receiver_id: null, group_id: req.group_id });
          }
          const { id, ms } = deps.nextId();
          const first = deps.ledger.admit({ conversation, sender_id: req.sender_id, client_msg_id: req.client_msg_id, message_id: id, created_at: ms });
          return complete(req, conversation, id, ms, first);
        } catch (err) {
          return Promise.reject(err);
        }
      });
      const settled = await Promise.allSettled(started);
      return settled.map((s, i) => {
        if (s.status === 'fulfilled') return s.value;
        const err = toAppError(s.reason);
        if (err.code === 'INTERNAL') deps.log.error({ err: s.reason }, 'send failed');
        deps.metrics.messagesIngested.inc({ kind: reqs[i]!.kind, result: 'rejected' });
        return err;
      });
    } finally {
      inFlight -= reqs.length;
    }
  }

  return {
    sendMany,
    async send(req: SendRequest): Promise<SendResult> {
      const [result] = await sendMany([req]);
      if (result instanceof AppError) throw result;
      return result!;
    },
  };
}

export type SendService = ReturnType<typeof sendService>;
