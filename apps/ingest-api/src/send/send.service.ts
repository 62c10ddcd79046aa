import { setTimeout as sleep } from 'node:timers/promises';
import { conversationOf, jobIds, type AcceptedMessage, type SendRequest, type TraceCarriers } from '@im/contracts';

import { AppError, notFound, permissionDenied, toAppError } from '@im/errors';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import type { GroupMembersCache, Shard, Topology } from '@im/redis';
import { activeContext, inSpan, produceHop, SpanKind, tracingOn, type Context } from '@im/telemetry';
import { MicroBatcher } from '@im/worker-kit';
import { StaleGenerationError, type Admission, type AdmissionLedger, type DedupeRecord, type DedupeRef } from './admission';
import type { BeforeSend } from './before-send';
import type { EnqueueOutcome } from './enqueue';
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
  /** Highest seq stored per conversation (history and conversation_state), for counters Redis cannot vouch for. */
  seqFloors(conversations: readonly string[]): Promise<Map<string, number>>;
  /** Adds the persist job `jobId` carrying `messages` (its admission ticket, its messages' trace contexts), and says what came of it (enqueue.ts). */
  enqueue(shard: Shard, jobId: string, messages: AcceptedMessage[], ticket?: number, trace?: TraceCarriers): Promise<EnqueueOutcome>;
  /** Takes a persist job back if no worker holds it yet. */
  takeBack(shard: Shard, jobId: string): Promise<'removed' | 'kept'>;
  /** Whether the persist job exists in the shard's queue (waiting, running, retrying or failed). */
  isQueued(shard: Shard, jobId: string): Promise<boolean>;
  /** Whether a message is stored in history (or was, and was recalled). */
  wasStored(messageId: string): Promise<boolean>;
  /** Messages in history sent with these client_msg_ids (by `${sender_id}/${client_msg_id}`). */
  storedSends(refs: readonly { sender_id: string; client_msg_id: string }[]): Promise<Map<string, { message_id: string; seq: number; created_at: number }>>;
  metrics: Metrics;
  log: Logger;
  /** Sends in flight beyond which ingest answers 503 rather than let memory grow. */
  maxPending: number;
  /** True while worker-persist is far behind (sampled): sends get 503 instead of a longer queue. */
  overloaded(): boolean;
  /**
   * Micro-batches: one admission call and one persist job per batch, per shard (queue.shards).
   * ordered: one batch of a shard in flight at a time, so its jobs are added in admission order.
   */
  batch: { maxItems: number; maxWaitMs: number; ordered: boolean };
  /** The deployment's shards: a conversation's sends are admitted and queued in its shard. */
  topology: Topology;
  /**
   * The time bound of a send (message_service.request_timeout_ms), split: a send that has not
   * reached its enqueue `admitWithinMs` after it arrived is answered 503 (nothing was queued); the
   * enqueue, bounded by Redis command timeouts, takes the rest; `checkWithinMs` bounds a look-up
   * in history that tells whether a job that vanished was done.
   */
  timing: { admitWithinMs: number; checkWithinMs: number };
  /**
   * A shard refused admission for another deployment generation (a reshard happened, or is under
   * way): the process follows the deployment (ingest.ts).
   */
  onStale(shardGeneration: number): void;
  /** The before_send hook, when one is configured (before-send.ts): it may refuse a send or replace its content. */
  beforeSend?: BeforeSend;
}

/** A send that passed validation and the user checks, waiting for its micro-batch. */
interface Pending {
  req: SendRequest;
  conversation: string;
  shard: Shard;
  /** Answered 503 because it did not reach its enqueue in time: its batch leaves it out. */
  abandoned?: boolean;
  /** Its batch's enqueue has started: from here the enqueue's outcome answers it. */
  enqueuing?: boolean;
  /** When it must have reached its enqueue (ms). */
  cutoffAt: number;
  /** With tracing on: the context of its admission span (the parent of its persist job's producer span). */
  trace?: Context | undefined;
}

const tooLate = () => new AppError('UNAVAILABLE', 'the send could not be admitted within message_service.request_timeout_ms; nothing was accepted, retry', { reason: 'ADMISSION_TIMEOUT' });

/**
 * `work`, or a 503 once `p.cutoffAt` passes while it has not reached its enqueue (it is then
 * marked abandoned, so its batch leaves it out). Past the cutoff, a send whose enqueue started
 * waits for the enqueue's outcome, which Redis command timeouts bound.
 */
function untilCutoff<T>(p: { cutoffAt: number; enqueuing?: boolean; abandoned?: boolean }, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => {
        if (p.enqueuing) return;
        p.abandoned = true;
        reject(tooLate());
      },
      Math.max(0, p.cutoffAt - Date.now()),
    );
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

type Outcome = { status: 'accepted'; result: SendResult } | { status: 'dup'; record: DedupeRecord } | { status: 'refused'; error: AppError };

/** A pending record younger than this may belong to a send still in flight: a repeat waits for it. */
export const PENDING_GRACE_MS = 10_000;
/** Tries to take back a job whose enqueue's outcome was unknown, once a second. */
const TAKE_BACK_TRIES = 60;

/**
 * Accepting sends: known users, then, per micro-batch of concurrent sends, one admission call
 * (dedupe, rate limit, seq) and one persist job with a deterministic id. A send is answered 202
 * once its job is in Redis. The HTTP routes (single and batch) and gRPC are thin adapters.
 *
 * Dedupe has no holes: a record names its job, so a repeat of a send whose outcome was unknown
 * (the enqueue's reply lost, the confirmation lost, the process gone) finds out whether the job
 * is queued or the message stored before the record is dropped and the send accepted anew.
 */
export function sendService(deps: SendDeps) {
  let inFlight = 0;
  // Conversations whose counter is being checked against MySQL share one look-up; the callers
  // continue in the order they asked, so seqs still follow the order of admission.
  const seeding = new Map<string, Promise<number>>();
  function seedsOf(conversations: readonly string[]): Promise<Map<string, number>> {
    const missing = conversations.filter((c) => !seeding.has(c));
    if (missing.length > 0) {
      const lookup = deps.seqFloors(missing);
      for (const c of missing) {
        const p = lookup.then((floors) => floors.get(c) ?? 0).finally(() => seeding.delete(c));
        p.catch(() => {});
        seeding.set(c, p);
      }
    }
    return Promise.all(conversations.map(async (c) => [c, await seeding.get(c)!] as const)).then((pairs) => new Map(pairs));
  }

  /** A ticket whose job will never be queued: the ordered consumer need not wait for it. */
  function voidTicket(shard: Shard, ticket: number): void {
    void deps.ledger.voidTicket(shard, ticket).catch((err) => deps.log.warn({ err, ticket }, 'could not void an admission ticket; the ordered consumer skips it after its wait'));
  }

  /** Drops the dedupe records of a job that is known not to be queued: a retry is admitted anew. */
  async function release(shard: Shard, jobId: string, messages: readonly DedupeRef[]): Promise<void> {
    if (!messages.some((m) => m.client_msg_id !== null)) return;
    try {
      await deps.ledger.release(shard, jobId, messages);
    } catch (err) {
      deps.log.warn({ err, jobId }, 'could not drop the dedupe records of a send that was not queued; a repeat settles them');
    }
  }

  /**
   * A job whose enqueue had no known outcome (Redis did not answer in time), answered 503: taken
   * back as soon as Redis answers, if no worker holds it yet; then its records go too. If a worker
   * got it first, the message is delivered after all, and a retry with the same client_msg_id
   * answers its first outcome (the records stay pending).
   */
  function takeBackLater(shard: Shard, jobId: string, messages: readonly AcceptedMessage[], ticket: number | undefined): void {
    deps.metrics.errors.inc({ component: 'ingest', kind: 'outcome_unknown' });
    void (async () => {
      for (let attempt = 1; attempt <= TAKE_BACK_TRIES; attempt++) {
        try {
          if ((await deps.takeBack(shard, jobId)) === 'removed') {
            await release(shard, jobId, messages);
            if (ticket !== undefined) voidTicket(shard, ticket);
          }
          else deps.log.warn({ jobId }, 'a send answered 503 with an unknown outcome was queued after all; a retry with its client_msg_id answers it');
          return;
        } catch {
          await sleep(1000);
        }
      }
      deps.log.warn({ jobId }, 'could not take back a send answered 503 with an unknown outcome; a retry with its client_msg_id settles it');
    })();
  }

  /** Whether a message is in history, or undefined when that cannot be told within checkWithinMs. */
  async function storedWithin(messageId: string): Promise<boolean | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), deps.timing.checkWithinMs)));
    try {
      return await Promise.race([deps.wasStored(messageId).catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  type Confirmable = Parameters<AdmissionLedger['confirm']>[2][number];
  async function confirm(shard: Shard, jobId: string, messages: readonly Confirmable[]): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        await deps.ledger.confirm(shard, jobId, messages);
        return;
      } catch (err) {
        if (attempt === 3) deps.log.warn({ err, jobId }, 'could not confirm dedupe records; they stay pending and a repeat checks the job');
        else await sleep(200 * attempt);
      }
    }
  }

  /**
   * One micro-batch of a shard: ids, one admission call (two when counters need MySQL), one persist
   * job. A send left without an outcome was abandoned (answered 503 at its cutoff): it gets that
   * error, made once per batch (an error's stack trace is not free: one per send was 4 % of
   * ingest's CPU).
   */
  async function admitBatch(shard: Shard, items: Pending[]): Promise<Outcome[]> {
    const outcomes = await admitInto(shard, items);
    let late: Outcome | undefined;
    return outcomes.map((o) => o ?? (late ??= { status: 'refused', error: tooLate() }));
  }

  async function admitInto(shard: Shard, items: Pending[]): Promise<(Outcome | undefined)[]> {
    const outcomes: (Outcome | undefined)[] = new Array<Outcome | undefined>(items.length).fill(undefined);
    const live = items.flatMap((p, i) => (p.abandoned ? [] : [i]));
    if (live.length === 0) return outcomes;
    const ids = items.map(() => deps.nextId());
    const jobId = jobIds.persist(ids[0]!.id);
    const inputs = items.map((p, i) => ({
      conversation: p.conversation,
      sender_id: p.req.sender_id,
      client_msg_id: p.req.client_msg_id,
      message_id: ids[i]!.id,
      created_at: ids[i]!.ms,
    }));
    const admitted: (Admission | { status: 'refused'; error: AppError } | undefined)[] = new Array(items.length);
    let todo = live;
    let ticket: number | undefined;
    let recentlyChanged = false;
    let seeds = new Map<string, number>();
    for (let round = 0; round < 3 && todo.length > 0; round++) {
      let admission: Awaited<ReturnType<AdmissionLedger['admit']>>;
      try {
        admission = await deps.ledger.admit(
          shard,
          todo.map((i) => inputs[i]!),
          jobId,
          seeds,
        );
      } catch (err) {
        if (!(err instanceof StaleGenerationError)) throw err;
        deps.onStale(err.shardGeneration);
        const error = new AppError('UNAVAILABLE', 'the deployment is changing its shard count (im-message reshard); nothing was accepted, retry in a few seconds', { reason: 'RESHARDING', retryAfterS: 2 });
        return outcomes.map(() => ({ status: 'refused', error }));
      }
      const { restarted, results } = admission;
      recentlyChanged ||= admission.recentlyChanged;
      // queue.ordered: a call admits all of its messages or none (admission.ts), so the one call
      // that admitted takes the batch's one ticket, in the step that gave its seqs.
      if (admission.ticket !== undefined) ticket = admission.ticket;
      if (restarted) deps.log.warn('the Redis server holding the seq counters changed (restart, restore or failover): counters are checked against MySQL before use');
      const unseeded: number[] = [];
      const toSeed = new Set<string>();
      results.forEach((r, k) => {
        const i = todo[k]!;
        if (r.status === 'seed') toSeed.add(items[i]!.conversation);
        if (r.status === 'seed' || r.status === 'wait') unseeded.push(i);
        // Our own record: this call ran twice (resent after a lost reply); its seq stands.
        else if (r.status === 'dup' && r.record.state === 'P' && r.record.job_id === jobId && r.record.message_id === inputs[i]!.message_id) admitted[i] = { status: 'ok', seq: r.record.seq };
        else admitted[i] = r;
      });
      todo = unseeded;
      if (toSeed.size > 0) seeds = new Map([...seeds, ...(await seedsOf([...toSeed]))]);
    }

    // Soon after the Redis server under the shard changed (a failover, a restore), a dedupe record
    // may have been lost with the old one while its message was stored: a repeat is looked for in
    // MySQL too, and answered with the message stored.
    if (recentlyChanged) {
      const fresh = live.filter((i) => admitted[i]?.status === 'ok' && items[i]!.req.client_msg_id !== null);
      if (fresh.length > 0) {
        const refs = fresh.map((i) => ({ sender_id: items[i]!.req.sender_id, client_msg_id: items[i]!.req.client_msg_id! }));
        let stored: Map<string, { message_id: string; seq: number; created_at: number }>;
        try {
          stored = await deps.storedSends(refs);
        } catch (err) {
          // Not known whether these repeat a stored send: refused (nothing queued), safe to retry.
          void release(shard, jobId, fresh.map((i) => items[i]!.req));
          const error = new AppError('UNAVAILABLE', 'whether this send repeats one stored before a Redis failover could not be checked against MySQL; nothing was accepted, retry shortly', { reason: 'DEPENDENCY_UNAVAILABLE', cause: err });
          for (const i of fresh) admitted[i] = { status: 'refused', error };
          stored = new Map();
        }
        for (const i of fresh) {
          const found = stored.get(`${items[i]!.req.sender_id}/${items[i]!.req.client_msg_id}`);
          if (!found) continue;
          const p = items[i]!;
          deps.log.warn({ messageId: found.message_id }, 'a repeat of a stored send whose dedupe record the Redis failover lost: answered with the stored message');
          void confirm(shard, jobId, [{ sender_id: p.req.sender_id, client_msg_id: p.req.client_msg_id, message_id: found.message_id, seq: found.seq, created_at: found.created_at, conversation: p.conversation }]);
          admitted[i] = { status: 'dup', record: { state: 'A', message_id: found.message_id, seq: found.seq, timestamp: found.created_at } };
        }
      }
    }

    const accepted: AcceptedMessage[] = [];
    const acceptedAt: number[] = [];
    const late: AcceptedMessage[] = [];
    for (const i of live) {
      const p = items[i]!;
      const a = admitted[i];
      if (a === undefined) {
        outcomes[i] = { status: 'refused', error: new AppError('UNAVAILABLE', 'the conversation seq could not be checked against MySQL; retry shortly', { reason: 'DEPENDENCY_UNAVAILABLE' }) };
      } else if (a.status === 'refused') {
        outcomes[i] = { status: 'refused', error: a.error };
      } else if (a.status === 'rate') {
        outcomes[i] = { status: 'refused', error: new AppError('RESOURCE_EXHAUSTED', `sender ${p.req.sender_id} is over its rate limit; retry after 1 s`, { reason: 'RATE_LIMITED', retryAfterS: 1 }) };
      } else if (a.status === 'dup') {
        outcomes[i] = { status: 'dup', record: a.record };
      } else if (a.status === 'ok') {
        const { req } = p;
        const fields = {
          message_id: ids[i]!.id,
          seq: a.seq,
          sender_id: req.sender_id,
          content: req.content,
          message_type: req.message_type,
          created_at: ids[i]!.ms,
          client_msg_id: req.client_msg_id,
          // Only when named: a job of the single-device routes stays as it was.
          ...(req.device_id === undefined ? {} : { sender_device_id: req.device_id }),
        };
        const message: AcceptedMessage = req.kind === 'single' ? { ...fields, receiver_id: req.receiver_id, group_id: null } : { ...fields, receiver_id: null, group_id: req.group_id };
        // Answered 503 while it was being admitted: it stays out of the job (its seq is a gap).
        if (p.abandoned) late.push(message);
        else {
          accepted.push(message);
          acceptedAt.push(i);
        }
      }
    }
    if (late.length > 0) void release(shard, jobId, late);
    if (accepted.length === 0) {
      if (ticket !== undefined) voidTicket(shard, ticket);
      return outcomes;
    }
    for (const i of acceptedAt) items[i]!.enqueuing = true;
    // With tracing on, a producer span per message, the child of its admission span; their
    // contexts ride in the job (one per message: the batch's messages belong to many traces).
    const traceOf = tracingOn() ? new Map(accepted.map((m, k) => [m.message_id, items[acceptedAt[k]!]!.trace])) : undefined;
    const hop = produceHop(shard.label('im.persist'), accepted.map((m) => m.message_id), traceOf && ((id) => traceOf.get(id)));
    const r = await deps.enqueue(shard, jobId, accepted, ticket, hop.carriers);
    hop.end(r.status === 'queued' ? undefined : r.error);
    // Not in the queue after a failed add: never added, or done already (a worker took it and
    // finished at once); history tells, unless it cannot answer in time either.
    const stored = r.status === 'absent' ? await storedWithin(accepted[0]!.message_id) : undefined;
    const outcome = r.status === 'absent' ? (stored === undefined ? 'unknown' : stored ? 'queued' : 'refused') : r.status;
    if (outcome !== 'queued') {
      const error =
        outcome === 'unknown'
          ? new AppError('UNAVAILABLE', 'Redis did not answer in time, so whether the send was queued is not known; it is taken back as soon as Redis answers. Retry with the same client_msg_id: the retry answers the first outcome', { reason: 'OUTCOME_UNKNOWN' })
          : 'error' in r
            ? r.error
            : tooLate();
      if (outcome === 'unknown') takeBackLater(shard, jobId, accepted, ticket);
      else {
        void release(shard, jobId, accepted);
        if (ticket !== undefined) voidTicket(shard, ticket);
      }
      for (const i of acceptedAt) outcomes[i] = { status: 'refused', error };
      return outcomes;
    }
    void confirm(shard, jobId, accepted.map((m) => ({ ...m, conversation: conversationOf(m) })));
    accepted.forEach((m, k) => {
      outcomes[acceptedAt[k]!] = { status: 'accepted', result: { message_id: m.message_id, seq: m.seq, timestamp: m.created_at } };
    });
    return outcomes;
  }

  // Sends of concurrent requests share one admission call and one persist job per shard. While
  // a shard's batches are in flight (one when ordered, else two), arrivals gather into the next,
  // larger one.
  // A send answered 503 at its cutoff while it waited here takes no place in a batch.
  let late: Outcome | undefined;
  const settledWithout = (p: Pending): Outcome | undefined => (p.abandoned ? (late ??= { status: 'refused', error: tooLate() }) : undefined);
  const batchers = deps.topology.all.map(
    (shard) =>
      new MicroBatcher<Pending, Outcome>((items) => admitBatch(shard, items), {
        spanName: `admit batch ${shard.label('im.persist')}`,
        settledWithout,
        maxItems: deps.batch.maxItems,
        maxWaitMs: deps.batch.maxWaitMs,
        maxInFlight: deps.batch.ordered ? 1 : 2,
      }),
  );
  const batch = (p: Pending) => batchers[p.shard.index]!.add(p);

  /**
   * A repeat of (sender, client_msg_id) found a record. Accepted: the first answer. Pending: the
   * first answer too if its job is queued or its message stored; if neither and the record is old
   * enough that no send can still be queueing it, the record is dropped and this send admitted
   * anew; otherwise wait for the first send to finish.
   */
  async function settle(p: Pending, record: DedupeRecord): Promise<{ result: SendResult; duplicate: boolean }> {
    for (let poll = 0; ; poll++) {
      if (Date.now() >= p.cutoffAt) throw new AppError('UNAVAILABLE', `a send with client_msg_id "${p.req.client_msg_id}" is still being accepted; retry shortly`, { reason: 'SEND_IN_PROGRESS' });
      const first = { result: { message_id: record.message_id, seq: record.seq, timestamp: record.timestamp }, duplicate: true };
      if (record.state === 'A') return first;
      if ((await deps.isQueued(p.shard, record.job_id)) || (await deps.wasStored(record.message_id))) {
        const ref = { sender_id: p.req.sender_id, client_msg_id: p.req.client_msg_id, message_id: record.message_id, seq: record.seq, created_at: record.timestamp, conversation: p.conversation };
        void confirm(p.shard, record.job_id, [ref]);
        return first;
      }
      if (Date.now() - record.written >= PENDING_GRACE_MS) {
        await deps.ledger.release(p.shard, record.job_id, [p.req]);
      } else {
        await sleep(Math.min(50 * (poll + 1), Math.max(0, p.cutoffAt - Date.now())));
        continue;
      }
      const next = await untilCutoff(p, batch(p));
      if (next.status === 'accepted') return { result: next.result, duplicate: false };
      if (next.status === 'refused') throw next.error;
      record = next.record;
    }
  }

  /**
   * One send through admission: with tracing on, in a span of its own (`admit`, the child of the
   * request's span) that its micro-batch's span links to and its persist job's producer span is
   * the child of.
   */
  function send(p: Pending): Promise<{ result: SendResult; duplicate: boolean }> {
    return inSpan('admit', SpanKind.INTERNAL, { 'im.conversation': p.conversation }, async (span) => {
      p.trace = activeContext();
      const outcome = await untilCutoff(p, batch(p));
      if (outcome.status === 'refused') throw outcome.error;
      const answered = outcome.status === 'accepted' ? { result: outcome.result, duplicate: false } : await settle(p, outcome.record);
      span?.setAttributes({ 'im.message_id': answered.result.message_id, 'im.seq': answered.result.seq, 'im.duplicate': answered.duplicate });
      return answered;
    });
  }

  /**
   * Sends many messages; each gets its result or its own error, in request order. They join the
   * batcher in request order, so messages of one conversation get increasing seqs.
   */
  async function sendMany(reqs: readonly SendRequest[]): Promise<(SendResult | AppError)[]> {
    if (deps.overloaded()) {
      deps.metrics.messagesIngested.inc({ kind: 'single', result: 'rejected' }, reqs.length);
      throw new AppError('UNAVAILABLE', 'the persist queue is far behind (queue.max_persist_backlog); nothing was accepted, retry shortly', { reason: 'OVERLOADED' });
    }
    if (inFlight + reqs.length > deps.maxPending) {
      deps.metrics.messagesIngested.inc({ kind: 'single', result: 'rejected' }, reqs.length);
      throw new AppError('UNAVAILABLE', `ingest holds ${inFlight} sends in flight, its limit is ${deps.maxPending}; retry shortly`, { reason: 'OVERLOADED' });
    }
    inFlight += reqs.length;
    const cutoffAt = Date.now() + deps.timing.admitWithinMs;
    try {
      const userIds = new Set<string>();
      const groupIds = new Set<string>();
      for (const r of reqs) {
        userIds.add(r.sender_id);
        if (r.kind === 'single') userIds.add(r.receiver_id);
        else groupIds.add(r.group_id);
      }
      const checks = { cutoffAt };
      const [unknownUsers, unknownGroups] = await untilCutoff(checks, Promise.all([deps.users.unknown([...userIds]), deps.groups.unknown([...groupIds])]));
      const missingUsers = new Set(unknownUsers);
      const missingGroups = new Set(unknownGroups);
      const pairs = new Set<string>();
      for (const r of reqs) {
        if (r.kind === 'group' && !missingGroups.has(r.group_id) && !missingUsers.has(r.sender_id)) pairs.add(`${r.group_id}/${r.sender_id}`);
      }
      const membership = new Map(
        await untilCutoff(checks, Promise.all(
          [...pairs].map(async (pair) => {
            const [groupId, senderId] = pair.split('/') as [string, string];
            return [pair, await deps.members.isMember(groupId, senderId)] as const;
          }),
        )),
      );

      // Checked sends, or the error that answers each.
      const prepared: ({ req: SendRequest; conversation: string } | Error)[] = reqs.map((req) => {
        try {
          if (missingUsers.has(req.sender_id)) throw notFound('UNKNOWN_USER', `sender_id ${req.sender_id} is not a known user; register it with PUT /v1/users/${req.sender_id}`);
          if (req.kind === 'single') {
            if (missingUsers.has(req.receiver_id)) throw notFound('UNKNOWN_USER', `receiver_id ${req.receiver_id} is not a known user; register it with PUT /v1/users/${req.receiver_id}`);
            return { req, conversation: conversationOf({ sender_id: req.sender_id, receiver_id: req.receiver_id, group_id: null }) };
          }
          if (missingGroups.has(req.group_id)) throw notFound('UNKNOWN_GROUP', `group_id ${req.group_id} is not a known group; create it with PUT /v1/groups/${req.group_id}`);
          if (!membership.get(`${req.group_id}/${req.sender_id}`)) throw permissionDenied('NOT_A_MEMBER', `sender_id ${req.sender_id} is not a member of group ${req.group_id}`);
          return { req, conversation: conversationOf({ sender_id: req.sender_id, receiver_id: null, group_id: req.group_id }) };
        } catch (err) {
          return err as Error;
        }
      });
      // before_send (hooks.before_send_url): one call for the request's checked sends, within the send's bound.
      if (deps.beforeSend) {
        const checked = prepared.flatMap((p, i) => (p instanceof Error ? [] : [i]));
        if (checked.length > 0) {
          const judged = await untilCutoff(checks, deps.beforeSend(checked.map((i) => (prepared[i] as { req: SendRequest }).req)));
          checked.forEach((i, k) => {
            const j = judged[k]!;
            prepared[i] = j instanceof Error ? j : { req: j, conversation: (prepared[i] as { conversation: string }).conversation };
          });
        }
      }
      const started = prepared.map((p) => (p instanceof Error ? Promise.reject(p) : send({ req: p.req, conversation: p.conversation, shard: deps.topology.of(p.conversation), cutoffAt })));
      const settled = await Promise.allSettled(started);
      return settled.map((s, i) => {
        const kind = reqs[i]!.kind;
        if (s.status === 'fulfilled') {
          deps.metrics.messagesIngested.inc({ kind, result: s.value.duplicate ? 'duplicate' : 'accepted' });
          return s.value.result;
        }
        const err = toAppError(s.reason);
        if (err.code === 'INTERNAL') deps.log.error({ err: s.reason }, 'send failed');
        deps.metrics.messagesIngested.inc({ kind, result: 'rejected' });
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
    /** Flushes the sends waiting for their batch (shutdown). */
    drain: () => Promise.all(batchers.map((b) => b.drain())).then(() => undefined),
  };
}

export type SendService = ReturnType<typeof sendService>;
