import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MetricsTime, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { CAPPED_BACKOFF, describeIssues, jobSchemas, type JobPayloads, type QueueName } from '@im/contracts';
import type { Config } from '@im/config';
import type { Logger } from '@im/logger';
import type { Metrics } from '@im/metrics';
import type { Shard } from '@im/redis';
import { consumeHop, withContext, type MessageTraces } from '@im/telemetry';
import { judgeFailure } from './failure-policy';
import { TicketSequencer } from './sequencer';
import { applyOrdering, cappedBackoff, type StageWorker } from './worker';

/** One job of a batch: its payload and the attempt it is on (1 on the first). */
export interface BatchItem<Q extends QueueName> {
  payload: JobPayloads[Q];
  attempt: number;
  /**
   * The job's work may have run before, in part or whole: a retry after a failure, a job handed
   * back after a stall (its worker died or lost the lock; `attempt` does not count those), or the
   * one-by-one rerun of a round that failed. False on a first run, so a handler can keep checks
   * that only a repeat needs off its first runs.
   */
  redone: boolean;
  job: Job;
}

/** Whether a job fetched to run has been started before (BullMQ counts every start, stalls included). */
export function startedBefore(job: Pick<Job, 'attemptsStarted' | 'attemptsMade' | 'stalledCounter'>): boolean {
  return job.attemptsStarted > 1 || job.attemptsMade > 0 || job.stalledCounter > 0;
}

/**
 * A batch handler: a plain async function of (the payloads of several jobs, in queue order, and a
 * context). It succeeds or throws for the whole batch.
 */
export type BatchHandler<Q extends QueueName, D> = (items: readonly BatchItem<Q>[], ctx: { deps: D; log: Logger; trace?: MessageTraces }) => Promise<void>;

export interface StartBatchWorkerOptions<Q extends QueueName, D> {
  queue: Q;
  /** The shard of the stage this worker consumes (the topology's). */
  shard: Shard;
  handler: BatchHandler<Q, D>;
  deps: D;
  connection: Redis;
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** Jobs taken per round (every job waiting, up to this). */
  maxJobs?: number;
  /** Rounds in flight at once (queue.ordered: one, by one process of the fleet at a time). */
  rounds?: number;
  /**
   * queue.ordered: the queue's jobs carry admission tickets (`ticket`, the persist stage): they are
   * handed to the handler in ticket order, not in the order they arrived (sequencer.ts).
   */
  sequenced?: boolean;
}


/**
 * Runs fn with the connection's socket corked until the next turn of the event loop, so the
 * commands fn issues together leave in one write instead of one system call each (BullMQ sends
 * one script call per job). On a cluster, which has no single socket, fn just runs.
 */
function togetherOnTheWire<T>(connection: Redis, fn: () => Promise<T>): Promise<T> {
  const stream = (connection as { stream?: { cork?: () => void; uncork?: () => void } }).stream;
  if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return fn();
  stream.cork();
  try {
    return fn();
  } finally {
    // After the microtasks in which BullMQ issues the commands, before anything else runs.
    setImmediate(() => stream.uncork!());
  }
}

const LOCK_MS = 10_000;
const LEASE_MS = 10_000;

/**
 * A worker that takes every job waiting (up to maxJobs) per round and hands their payloads to one
 * handler call, so the per-job cost of a stage (a statement, a hand-off, a publish pipeline) is
 * shared by every job that waited, while BullMQ keeps each job's own retry, lock and stall rules.
 *
 * Failures follow the one failure policy (failure-policy.ts), as single-job workers do: an error
 * about the job (an invalid payload, a non-retryable contract error, data MySQL refuses) fails
 * it at once; anything else retries with the capped backoff without end. A batch that fails for
 * another reason than an outage is taken apart and its jobs run one by one, so one poison job
 * cannot hold back or fail the jobs that rode with it.
 *
 * queue.ordered: one process of the fleet consumes the shard's queue at a time, one round at a time.
 * Its lease in Redis is renewed while it holds it, rounds included, and taken over within 10 s of
 * its holder's death; a new holder first waits until no job of the queue is active (the previous
 * holder's last round is done or was handed back), so two processes never hand on at once. A
 * sequenced queue (persist) hands its jobs on in ticket order (sequencer.ts), which is seq order
 * per conversation across every ingest process; the others keep queue order. A job that retries
 * lets the ones behind it pass.
 */
export function startBatchWorker<Q extends QueueName, D>(o: StartBatchWorkerOptions<Q, D>): StageWorker {
  const schema = jobSchemas[o.queue];
  const label = o.shard.label(o.queue);
  const prefix = o.shard.queuePrefix;
  const ordered = o.config.queue.ordered;
  const maxJobs = o.maxJobs ?? 100;
  const rounds = ordered ? 1 : (o.rounds ?? 2);
  const { backoff_ms: base, max_backoff_ms: cap } = o.config.queue;
  const timer = o.metrics.jobDuration.labels({ queue: label });
  const log = o.log.child({ queue: label });

  const worker = new Worker(o.queue, null, {
    connection: o.connection,
    prefix,
    autorun: false,
    lockDuration: LOCK_MS,
    stalledInterval: 5_000,
    maxStalledCount: 20,
    settings: { backoffStrategy: (attemptsMade: number, type?: string) => (type === CAPPED_BACKOFF ? cappedBackoff(attemptsMade, base, cap) : base) },
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
  });
  worker.on('error', (err) => {
    o.metrics.errors.inc({ component: label, kind: 'worker' });
    log.error({ err }, 'worker error');
  });
  void worker.startStalledCheckTimer().catch((err) => log.warn({ err }, 'stalled checks did not start'));
  // Ordering here is the lease below: no global concurrency, or a round could take one job only.
  void applyOrdering(o.connection, prefix, o.queue, false).catch((err) => log.warn({ err }, 'could not clear the queue global concurrency'));

  // Jobs of the rounds in flight, with their lock tokens: their locks are extended while they run.
  const held = new Map<string, string>();
  const extender = setInterval(() => {
    if (held.size === 0) return;
    void worker.extendJobLocks([...held.keys()], [...held.values()], LOCK_MS).catch((err) => log.debug({ err }, 'extending locks failed'));
  }, LOCK_MS / 3);
  extender.unref();

  const leaseKey = o.shard.keys.consumer(o.queue);
  const leaseToken = randomUUID();
  let leased = false;
  async function holdLease(): Promise<boolean> {
    if (!ordered) return true;
    const renewed = leased
      ? Number(await o.connection.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0", 1, leaseKey, leaseToken, LEASE_MS))
      : (await o.connection.set(leaseKey, leaseToken, 'PX', LEASE_MS, 'NX')) === 'OK'
        ? 1
        : 0;
    if ((renewed === 1) !== leased) log.info({ consumer: renewed === 1 }, renewed === 1 ? 'consuming the shard (ordered)' : 'another process consumes the shard');
    leased = renewed === 1;
    return leased;
  }

  /**
   * A job this process holds whose key is gone from the server: the Redis server under the shard
   * changed (a failover to a replica that had not received it) while the job ran or waited here
   * for its ticket. This process holds the only copy, so it is added again, with its id, data and
   * options, instead of being dropped (a no-op if the job exists after all). A job that ran, in
   * part or whole, runs again: every stage is idempotent by job and message ids.
   */
  let putBackQueue: Queue | undefined;
  async function putBack(job: Job): Promise<void> {
    putBackQueue ??= new Queue(o.queue, { connection: o.connection, prefix });
    await putBackQueue.add(job.name, job.data, { ...job.opts, jobId: job.id });
    o.metrics.errors.inc({ component: label, kind: 'job_put_back' });
    log.warn({ jobId: job.id }, 'a job held here was gone from Redis (the server under the shard changed): added again');
  }
  /** Whether a BullMQ script refused a job because its key does not exist (code -1, "Missing key"). */
  const missingKey = (err: unknown) => (err as { code?: unknown } | undefined)?.code === -1;

  async function fail(job: Job, token: string, err: unknown): Promise<void> {
    const verdict = judgeFailure(err);
    o.metrics.errors.inc({ component: label, kind: verdict.kind });
    try {
      await job.moveToFailed(verdict.error, token, false);
    } catch (moveErr) {
      // Retried from the copy held here, or it would never run again.
      if (missingKey(moveErr) && !verdict.failed) return putBack(job);
      throw moveErr;
    }
    if (verdict.failed) {
      o.metrics.errors.inc({ component: label, kind: 'job_failed' });
      log.error({ jobId: job.id, attempts: job.attemptsMade, err: verdict.error }, 'job failed for good; kept in the failed set (im-message failed / retry)');
    }
  }

  /**
   * Runs a round in its span (with tracing on): a consumer span per traced message of its jobs,
   * children of their producer spans, and the round's own span, linked to them, in which the
   * handler's work runs (telemetry consumeHop).
   */
  async function runRound(jobs: Job[]): Promise<void> {
    const hop = consumeHop(label, jobs);
    let err: unknown;
    try {
      err = await withContext(hop.round, () => settleRound(jobs, hop));
    } catch (e) {
      err = e;
      throw e;
    } finally {
      hop.end(err);
    }
  }

  /** Settles a round: valid jobs as one batch; on an error other than an outage, one by one. Each job's lock token is in `held`. Resolves to the batch's error, if it failed. */
  async function settleRound(jobs: Job[], trace: MessageTraces): Promise<unknown> {
    const tokenOf = (job: Job) => held.get(job.id!)!;
    const valid: BatchItem<Q>[] = [];
    for (const job of jobs) {
      const parsed = schema.safeParse(job.data);
      if (parsed.success) valid.push({ payload: parsed.data as JobPayloads[Q], attempt: job.attemptsMade + 1, redone: startedBefore(job), job });
      else {
        o.metrics.errors.inc({ component: label, kind: 'invalid_job' });
        await fail(job, tokenOf(job), new UnrecoverableError(`invalid ${o.queue} job: ${describeIssues(parsed.error)}`));
      }
    }
    const attemptBatch = async (items: BatchItem<Q>[]): Promise<unknown> => {
      const end = timer.startTimer();
      try {
        await o.handler(items, { deps: o.deps, log, trace });
        const completions = await togetherOnTheWire(o.connection, () => Promise.allSettled(items.map((i) => i.job.moveToCompleted(undefined, tokenOf(i.job), false))));
        // A job gone from the server (a failover lost it) has nothing left to complete: its work is done.
        const refused = completions.find((c): c is PromiseRejectedResult => c.status === 'rejected' && !missingKey(c.reason));
        if (refused) throw refused.reason;
        return undefined;
      } catch (err) {
        return err;
      } finally {
        end();
      }
    };
    if (valid.length === 0) return undefined;
    const err = await attemptBatch(valid);
    if (err === undefined) return undefined;
    const { outage } = judgeFailure(err);
    log.warn({ err, jobs: valid.length }, outage ? 'round failed: a backing service is unavailable; retrying until it is back' : 'round failed; its jobs are tried one by one');
    if (outage || valid.length === 1) {
      await Promise.all(valid.map((i) => fail(i.job, tokenOf(i.job), err)));
      return err;
    }
    for (const item of valid) {
      // The round may have written part of this job's work before it failed.
      const one = await attemptBatch([{ ...item, redone: true }]);
      if (one !== undefined) await fail(item.job, tokenOf(item.job), one);
    }
    return err;
  }

  let closing = false;
  let inFlight = 0;
  let roundDone: () => void = () => {};

  /** Every job waiting, up to `room`, in waves of 1, 2, 4, ... fetches sent together; the first blocks when `block`. */
  async function fetchJobs(room: number, block: boolean): Promise<Job[]> {
    const token = randomUUID();
    const first = await worker.getNextJob(token, { block });
    if (!first) return [];
    // As many round trips as doublings; a wave that comes back short means the queue is empty.
    const jobs = [first];
    for (let wave = 1; jobs.length < room && !closing; wave *= 2) {
      const n = Math.min(wave, room - jobs.length);
      const fetched = (await togetherOnTheWire(o.connection, () => Promise.all(Array.from({ length: n }, () => worker.getNextJob(token, { block: false }))))).filter(
        (j): j is Job => j !== undefined,
      );
      jobs.push(...fetched);
      if (fetched.length < n) break;
    }
    for (const j of jobs) held.set(j.id!, token);
    return jobs;
  }

  const unorderedLoop = async () => {
    while (!closing) {
      try {
        if (inFlight >= rounds) {
          await new Promise<void>((resolve) => (roundDone = resolve));
          continue;
        }
        const jobs = await fetchJobs(maxJobs, true);
        if (jobs.length === 0) continue;
        inFlight++;
        void runRound(jobs)
          .catch((err) => log.error({ err }, 'round could not be settled; its jobs come back after the stall check'))
          .finally(() => {
            for (const j of jobs) held.delete(j.id!);
            inFlight--;
            roundDone();
          });
      } catch (err) {
        if (!closing) {
          log.warn({ err }, 'fetching jobs failed; retrying');
          await sleep(500);
        }
      }
    }
  };

  // queue.ordered: the lease is renewed every LEASE_MS / 3 while held, rounds included; a holder
  // that fails to renew it stops, and gives back the jobs it held for later tickets.
  const sequencer = o.sequenced ? new TicketSequencer<Job>(o.config.message_service.request_timeout_ms + 1000) : undefined;
  // Jobs held for a later ticket go back to waiting at once (the next holder sorts them again);
  // one that cannot be moved back stalls and comes back after the lock's time.
  const dropHeldForLater = () => {
    for (const j of sequencer?.release() ?? []) {
      const token = held.get(j.id!);
      held.delete(j.id!);
      void j
        .moveToWait(token)
        .catch((err) => (missingKey(err) ? putBack(j) : Promise.reject(err)))
        .catch((err) => log.warn({ err, jobId: j.id }, 'could not hand a held job back; it comes back after the stall check'));
    }
  };
  const renewer = ordered
    ? setInterval(() => {
        if (!leased) return;
        void holdLease()
          .then((still) => {
            if (!still) dropHeldForLater();
          })
          .catch((err) => log.debug({ err }, 'renewing the consumer lease failed'));
      }, LEASE_MS / 3)
    : undefined;
  renewer?.unref();

  /** After taking the lease over: no job of the queue active any more (the last holder's round is done or handed back). */
  async function fence(): Promise<void> {
    const deadline = Date.now() + 3 * LOCK_MS;
    while (!closing && Date.now() < deadline && (await o.connection.llen(o.shard.queueKey(o.queue, 'active'))) > 0) await sleep(100);
    if (!sequencer) return;
    // Go on after the last ticket handed on; the first consumer of a shard starts after the last
    // ticket issued so far (jobs of earlier tickets are handed on as they come).
    const done = await o.connection.get(o.shard.keys.ticketDone);
    const issued = Number(await o.connection.get(o.shard.keys.ticket)) || 0;
    sequencer.resume(done === null ? issued + 1 : Number(done) + 1);
  }

  const isVoid = async (ticket: number) => (await o.connection.srem(o.shard.keys.voidTickets, String(ticket))) === 1;
  const ticketOf = (job: Job) => {
    const t = (job.data as { ticket?: unknown } | undefined)?.ticket;
    return typeof t === 'number' && Number.isInteger(t) ? t : undefined;
  };

  const orderedLoop = async () => {
    while (!closing) {
      try {
        const before = leased;
        if (!(await holdLease())) {
          dropHeldForLater();
          await sleep(1000);
          continue;
        }
        if (!before) await fence();
        const waiting = sequencer?.held.length ?? 0;
        const fetched = await fetchJobs(Math.max(1, maxJobs - waiting), waiting === 0);
        let ready = fetched;
        let last: number | undefined;
        if (sequencer) {
          const now = sequencer.add(fetched.map((job) => ({ item: job, ticket: ticketOf(job) })));
          const turn = await sequencer.take(isVoid);
          if (turn.late.length > 0) log.warn({ tickets: turn.late, next: (turn.last ?? 0) + 1 }, 'jobs came after their ticket was passed: handed on at once, out of ticket order');
          if (turn.skipped > 0) log.warn({ skipped: turn.skipped, next: (turn.last ?? 0) + 1 }, 'admission tickets that never came were skipped (their sends were refused or their ingest process died)');
          ready = [...now, ...turn.ready];
          last = turn.last;
        }
        if (ready.length === 0) {
          if (fetched.length === 0 && waiting > 0) await sleep(10);
          continue;
        }
        inFlight++;
        try {
          await runRound(ready);
        } catch (err) {
          log.error({ err }, 'round could not be settled; its jobs come back after the stall check');
        } finally {
          for (const j of ready) held.delete(j.id!);
          inFlight--;
        }
        if (last !== undefined) await o.connection.set(o.shard.keys.ticketDone, String(last));
      } catch (err) {
        if (!closing) {
          log.warn({ err }, 'fetching jobs failed; retrying');
          await sleep(500);
        }
      }
    }
  };
  const loop = ordered ? orderedLoop() : unorderedLoop();

  return {
    async close(timeoutMs) {
      closing = true;
      roundDone();
      const deadline = Date.now() + timeoutMs;
      while (inFlight > 0 && Date.now() < deadline) await sleep(20);
      clearInterval(extender);
      if (renewer) clearInterval(renewer);
      dropHeldForLater();
      // Jobs of a round that did not finish in time stay active: the stall check hands them back.
      await worker.close(inFlight > 0);
      await loop;
      await putBackQueue?.close();
      if (leased) await o.connection.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, leaseKey, leaseToken).catch(() => {});
    },
  };
}
