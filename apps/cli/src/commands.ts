import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { Config } from '@im/config';
import { channels, DEVICE_ID, parseId, QUEUES, type QueueName } from '@im/contracts';
import { createPool, maintainPartitions, messagesRepository, migrate, monthPartition, monthStart, partitionsRepository, recallsRepository } from '@im/db';
import { closeRedis, topology, type Redis } from '@im/redis';
import { jobCounts, readDeployment, reshard } from '@im/worker-kit';
import { apiCall } from './api';
import { checkMysql, connectRedis } from './connect';

export interface RunContext {
  config: Config;
  values: Record<string, unknown>;
  positionals: string[];
  json: boolean;
}

export interface Command {
  summary: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }>;
  run(ctx: RunContext): Promise<number | void>;
}

const out = (ctx: RunContext, human: string, data: unknown) => process.stdout.write((ctx.json ? JSON.stringify(data) : human) + '\n');

function requireId(value: unknown, what: string): string {
  const id = parseId(value);
  if (id === undefined) throw new Error(`${what} must be a positive integer id (got ${value === undefined ? 'nothing' : JSON.stringify(value)})`);
  return id;
}

function queueArg(ctx: RunContext): QueueName {
  const given = ctx.positionals[0];
  const all = Object.values(QUEUES) as string[];
  const name = given && !given.startsWith('im.') ? `im.${given}` : given;
  if (!name || !all.includes(name)) throw new Error(`give a queue: ${all.join(', ')} (or persist, fanout, deliver, cleaner, push, hook)`);
  return name as QueueName;
}

/** A shard's queue of a stage as the CLI shows it: `im.persist`, `im.persist.s3`. */
interface CliQueue {
  label: string;
  shard: number;
  queue: Queue;
}

/** The stages' queues, every shard (or only --shard's); the cleaner's queue is one. */
async function withQueues<T>(ctx: RunContext, stages: readonly QueueName[], fn: (queues: CliQueue[], redis: Redis) => Promise<T>): Promise<T> {
  const config = ctx.config;
  const redis = await connectRedis(config, 'im-cli');
  // The deployment's shards (its record in Redis), or queue.shards for one no process has joined.
  const shards = (await readDeployment(redis, config.queue.prefix).catch(async (err) => (await closeRedis(redis), Promise.reject(err))))?.shards ?? config.queue.shards;
  const only = ctx.values.shard === undefined ? undefined : Number(ctx.values.shard);
  if (only !== undefined && !(Number.isInteger(only) && only >= 0 && only < shards)) {
    await closeRedis(redis);
    throw new Error(`--shard must be 0 to ${shards - 1} (the deployment runs ${shards} shard(s))`);
  }
  const topo = topology({ prefix: config.queue.prefix, shards });
  const queues: CliQueue[] = [];
  for (const stage of stages) {
    for (const shard of stage === QUEUES.cleaner ? [topo.shard(0)] : topo.all) {
      if (only !== undefined && shard.index !== only) continue;
      queues.push({ label: shard.label(stage), shard: shard.index, queue: new Queue(stage, { connection: redis, prefix: shard.queuePrefix }) });
    }
  }
  try {
    return await fn(queues, redis);
  } finally {
    await Promise.all(queues.map((q) => q.queue.close()));
    await closeRedis(redis);
  }
}

const shardOption = { shard: { type: 'string' as const } };
const shardUsage = '  --shard K           only shard K of the stage (queue.shards); default: every shard';

const apiOptions = {
  url: { type: 'string' as const },
  token: { type: 'string' as const },
};
const apiUsage = `  --url URL           ingest API (default http://127.0.0.1:<message_service.port>)
  --token TOKEN       bearer token (default: the first of auth.api_tokens / IM_API_TOKENS)`;

const sendOptions = {
  ...apiOptions,
  from: { type: 'string' as const },
  text: { type: 'string' as const },
  type: { type: 'string' as const, default: 'text' },
  'client-msg-id': { type: 'string' as const },
};

/** send and send-group: the same options, posted to the route of the target. */
async function send(ctx: RunContext, path: string, target: { receiver_id: string } | { group_id: string }): Promise<void> {
  const v = ctx.values;
  const r = await apiCall(ctx, 'POST', path, {
    sender_id: requireId(v.from, '--from'),
    ...target,
    content: v.text,
    message_type: v.type,
    ...(v['client-msg-id'] ? { client_msg_id: v['client-msg-id'] } : {}),
  });
  out(ctx, `accepted: message_id ${r.body.message_id}, seq ${r.body.seq}, at ${new Date(r.body.timestamp).toISOString()}`, r.body);
}

export const COMMANDS: Record<string, Command> = {
  send: {
    summary: 'send a single-chat message',
    usage: `usage: im-message send --from USER --to USER --text TEXT [--type text|image|file|voice] [--client-msg-id ID]\n${apiUsage}`,
    options: { ...sendOptions, to: { type: 'string' } },
    run: (ctx) => send(ctx, '/v1/messages', { receiver_id: requireId(ctx.values.to, '--to') }),
  },

  'send-group': {
    summary: 'send a group message',
    usage: `usage: im-message send-group --from USER --group GROUP --text TEXT [--type ...] [--client-msg-id ID]\n${apiUsage}`,
    options: { ...sendOptions, group: { type: 'string' } },
    run: (ctx) => send(ctx, '/v1/group-messages', { group_id: requireId(ctx.values.group, '--group') }),
  },

  pull: {
    summary: "pull a user's offline messages (acknowledging the page that ended at --after)",
    usage: `usage: im-message pull USER [--limit 1..1000] [--after MESSAGE_ID]\n  --after ID          the last message id of the previous page: that page is acknowledged (deleted) first\n${apiUsage}`,
    options: { ...apiOptions, limit: { type: 'string', default: '100' }, after: { type: 'string' } },
    async run(ctx) {
      const user = requireId(ctx.positionals[0], 'USER');
      const after = ctx.values.after === undefined ? '' : `&last_message_id=${requireId(ctx.values.after, '--after')}`;
      const r = await apiCall(ctx, 'GET', `/v1/users/${user}/offline-messages?limit=${encodeURIComponent(String(ctx.values.limit))}${after}`);
      const lines = r.body.messages.map(
        (m: any) => `${m.message_id}  ${new Date(m.created_at).toISOString()}  ${m.group_id ? `[${m.group_name ?? m.group_id}] ` : ''}${m.sender_name ?? m.sender_id}: ${m.content}`,
      );
      const last = r.body.messages.at(-1)?.message_id;
      const tail = r.body.has_more ? `\nmore waiting: im-message pull ${user} --after ${last}` : `\n(${r.body.messages.length} message(s), nothing more)`;
      out(ctx, lines.join('\n') + tail, r.body);
    },
  },

  devices: {
    summary: "list a user's devices: platform, online where, last seen",
    usage: `usage: im-message devices USER\n${apiUsage}`,
    options: { ...apiOptions },
    async run(ctx) {
      const user = requireId(ctx.positionals[0], 'USER');
      const r = await apiCall(ctx, 'GET', `/v1/users/${user}/devices`);
      const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
      const lines = r.body.devices.map(
        (d: any) => `${d.device_id.padEnd(20)} ${d.platform.padEnd(8)} ${d.online ? `online on ${d.gateway_id}` : 'offline'}  last seen ${when(d.last_seen_at)}`,
      );
      out(ctx, lines.length > 0 ? lines.join('\n') : `user ${user} has no device`, r.body);
    },
  },

  sync: {
    summary: "one page of a device's sync (confirming the page that ended at --cursor)",
    usage: `usage: im-message sync USER DEVICE [--limit 1..1000] [--cursor ID]\n  --cursor ID         the cursor of the previous page: that page is confirmed (deleted) first\n${apiUsage}`,
    options: { ...apiOptions, limit: { type: 'string', default: '100' }, cursor: { type: 'string' } },
    async run(ctx) {
      const user = requireId(ctx.positionals[0], 'USER');
      const device = ctx.positionals[1];
      if (!device || !DEVICE_ID.test(device)) throw new Error(`DEVICE must be 1 to 64 characters of A-Z a-z 0-9 _ . : - (got ${device === undefined ? 'nothing' : JSON.stringify(device)})`);
      const cursor = ctx.values.cursor === undefined ? '' : `&cursor=${requireId(ctx.values.cursor, '--cursor')}`;
      const r = await apiCall(ctx, 'GET', `/v1/users/${user}/devices/${device}/sync?limit=${encodeURIComponent(String(ctx.values.limit))}${cursor}`);
      const lines = r.body.items.map((i: any) => {
        const at = new Date(i.created_at).toISOString();
        if (i.kind === 'read') return `${i.id}  ${at}  read ${i.conversation} up to seq ${i.seq} on ${i.origin_device_id ?? 'another device'}`;
        if (i.kind === 'recall') return `${i.id}  ${at}  recall of ${i.message_id}`;
        const from = i.origin_device_id ? ` (sent from ${i.origin_device_id})` : '';
        return `${i.id}  ${at}  ${i.group_id ? `[${i.group_name ?? i.group_id}] ` : ''}${i.sender_name ?? i.sender_id}${from}: ${i.content}`;
      });
      const tail = r.body.has_more ? `\nmore waiting: im-message sync ${user} ${device} --cursor ${r.body.cursor}` : `\n(${r.body.items.length} item(s), nothing more${r.body.cursor ? `; confirm with --cursor ${r.body.cursor}` : ''})`;
      out(ctx, lines.join('\n') + tail, r.body);
    },
  },

  tail: {
    summary: "print a user's channel live (user:{id}), until Ctrl-C",
    usage: 'usage: im-message tail USER [--group GROUP ...]',
    options: { group: { type: 'string' } },
    async run(ctx) {
      const user = requireId(ctx.positionals[0], 'USER');
      const chans = [channels.user(user), ...(ctx.values.group ? [channels.group(requireId(ctx.values.group, '--group'))] : [])];
      // The channels as gateways hear them: SUBSCRIBE, or SSUBSCRIBE with queue.pubsub = sharded.
      const sharded = ctx.config.queue.pubsub === 'sharded';
      const sub = await connectRedis(ctx.config, 'im-cli-tail', 'subscriber');
      sub.on(sharded ? 'smessage' : 'message', (channel: string, raw: string) => {
        if (ctx.json) return void process.stdout.write(raw + '\n');
        const e = JSON.parse(raw);
        process.stdout.write(`${new Date(e.timestamp ?? Date.now()).toISOString()}  ${channel}  ${e.event}  ${e.message_id}  from ${e.sender_id}: ${e.content ?? ''}\n`);
      });
      if (sharded) for (const c of chans) await sub.ssubscribe(c);
      else await sub.subscribe(...chans);
      process.stderr.write(`listening on ${chans.join(', ')} (Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => process.once('SIGINT', resolve));
      sub.disconnect();
    },
  },

  queues: {
    summary: 'job counts per queue and state',
    usage: `usage: im-message queues [--shard K]\n${shardUsage}`,
    options: { ...shardOption },
    async run(ctx) {
      const names = Object.values(QUEUES);
      const rows = await withQueues(ctx, names, (qs) => Promise.all(qs.map(async (q) => ({ queue: q.label, ...(await jobCounts(q.queue)) }))));
      const head = `${'queue'.padEnd(15)} ${'waiting'.padStart(9)} ${'active'.padStart(9)} ${'delayed'.padStart(9)} ${'failed'.padStart(9)}`;
      const lines = rows.map((r) => `${r.queue.padEnd(15)} ${String(r.waiting).padStart(9)} ${String(r.active).padStart(9)} ${String(r.delayed).padStart(9)} ${String(r.failed).padStart(9)}`);
      out(ctx, [head, ...lines].join('\n'), rows);
    },
  },

  status: {
    summary: 'live pipeline snapshot: counts per queue and state, and jobs/s done and failed',
    usage: `usage: im-message status [--interval SECONDS] [--once] [--shard K]\n${shardUsage}`,
    options: { interval: { type: 'string', default: '1' }, once: { type: 'boolean', default: false }, ...shardOption },
    async run(ctx) {
      const interval = Math.max(0.2, Number(ctx.values.interval) || 1);
      const names = Object.values(QUEUES);
      await withQueues(ctx, names, async (qs) => {
        let prev: Map<string, { done: number; failed: number; at: number }> | undefined;
        let stop = false;
        process.once('SIGINT', () => (stop = true));
        while (!stop) {
          const now = Date.now();
          const rows = await Promise.all(
            qs.map(async ({ label, queue: q }) => {
              const [counts, done, failed] = await Promise.all([jobCounts(q), q.getMetrics('completed', 0, 0), q.getMetrics('failed', 0, 0)]);
              const p = prev?.get(label);
              const secs = p ? (now - p.at) / 1000 : 0;
              return {
                queue: label,
                ...counts,
                done_total: done.meta.count,
                done_per_s: p && secs > 0 ? (done.meta.count - p.done) / secs : null,
                failed_per_s: p && secs > 0 ? (failed.meta.count - p.failed) / secs : null,
                failedTotal: failed.meta.count,
              };
            }),
          );
          prev = new Map(rows.map((r) => [r.queue, { done: r.done_total, failed: r.failedTotal, at: now }]));
          if (ctx.json) {
            process.stdout.write(JSON.stringify({ at: now, queues: rows.map(({ failedTotal: _f, ...r }) => r) }) + '\n');
          } else {
            const rate = (x: number | null) => (x === null ? '...' : x.toFixed(1));
            const lines = [
              `im-message pipeline  ${new Date(now).toISOString()}  (every ${interval} s, Ctrl-C to stop)`,
              '',
              `${'queue'.padEnd(15)} ${'waiting'.padStart(8)} ${'active'.padStart(8)} ${'delayed'.padStart(8)} ${'failed'.padStart(8)} ${'done/s'.padStart(9)} ${'failed/s'.padStart(9)}`,
              ...rows.map(
                (r) =>
                  `${r.queue.padEnd(15)} ${String(r.waiting).padStart(8)} ${String(r.active).padStart(8)} ${String(r.delayed).padStart(8)} ${String(r.failed).padStart(8)} ${rate(r.done_per_s).padStart(9)} ${rate(r.failed_per_s).padStart(9)}`,
              ),
            ];
            process.stdout.write((process.stdout.isTTY && !ctx.values.once ? '\x1b[2J\x1b[H' : '') + lines.join('\n') + '\n');
          }
          if (ctx.values.once && prev && rows.every((r) => r.done_per_s !== null)) break;
          await sleep(interval * 1000);
        }
      });
    },
  },

  failed: {
    summary: 'list the failed jobs of a queue (those that can never succeed as they are) with their reasons',
    usage: `usage: im-message failed QUEUE [--limit N] [--shard K]   (QUEUE: persist, fanout, deliver, cleaner, push, hook)\n${shardUsage}`,
    options: { limit: { type: 'string', default: '20' }, ...shardOption },
    async run(ctx) {
      const name = queueArg(ctx);
      const limit = Math.max(1, Number(ctx.values.limit) || 20);
      const perShard = await withQueues(ctx, [name], (qs) => Promise.all(qs.map(async (q) => (await q.queue.getFailed(0, limit - 1)).map((j) => ({ q, j })))));
      const data = perShard
        .flat()
        .slice(0, limit)
        .map(({ q, j }) => ({ queue: q.label, id: j.id, name: j.name, attempts: j.attemptsMade, failed_at: j.finishedOn ?? null, reason: j.failedReason }));
      const human = data.length === 0 ? `no failed jobs in ${name}` : data.map((d) => `${d.queue}  ${d.id}  ${d.attempts} attempt(s)  ${d.failed_at ? new Date(d.failed_at).toISOString() : ''}  ${d.reason}`).join('\n');
      out(ctx, human, data);
    },
  },

  retrying: {
    summary: 'list the jobs of a queue waiting to retry (for example while MySQL is down), with their last error',
    usage: `usage: im-message retrying QUEUE [--limit N] [--shard K]   (QUEUE: persist, fanout, deliver, cleaner, push, hook)\n${shardUsage}`,
    options: { limit: { type: 'string', default: '20' }, ...shardOption },
    async run(ctx) {
      const name = queueArg(ctx);
      const limit = Math.max(1, Number(ctx.values.limit) || 20);
      const perShard = await withQueues(ctx, [name], (qs) => Promise.all(qs.map(async (q) => (await q.queue.getDelayed(0, limit - 1)).map((j) => ({ q, j })))));
      const data = perShard
        .flat()
        .slice(0, limit)
        .map(({ q, j }) => ({ queue: q.label, id: j.id, name: j.name, attempts: j.attemptsMade, next_attempt_at: j.timestamp + j.delay, reason: j.failedReason ?? null }));
      const human =
        data.length === 0
          ? `no jobs of ${name} are waiting to retry`
          : data.map((d) => `${d.queue}  ${d.id}  ${d.attempts} attempt(s)  next ${new Date(d.next_attempt_at).toISOString()}  ${d.reason ?? ''}`).join('\n');
      out(ctx, human, data);
    },
  },

  retry: {
    summary: 'put the failed jobs of a queue back to waiting (each once: a job that fails again stays failed)',
    usage: `usage: im-message retry QUEUE [--shard K]   (QUEUE: persist, fanout, deliver, cleaner, push, hook)\n${shardUsage}`,
    options: { ...shardOption },
    async run(ctx) {
      const name = queueArg(ctx);
      const retried = await withQueues(ctx, [name], async (qs, client) => {
        let all = 0;
        for (const { label, queue: q } of qs) {
          // Only jobs that failed before now: one that fails again at once is not picked up a second time.
          const until = Date.now();
          const total = await client.zcount(q.toKey('failed'), '-inf', until);
          if (total === 0) continue;
          const job = q.retryJobs({ state: 'failed', count: 1000, timestamp: until });
          let done = false;
          void job.finally(() => (done = true)).catch(() => {});
          while (!done && !ctx.json) {
            await sleep(500);
            const left = await client.zcount(q.toKey('failed'), '-inf', until);
            if (!done) process.stderr.write(`retrying ${label}: ${total - left} of ${total}\n`);
          }
          await job;
          all += total;
        }
        return all;
      });
      out(ctx, `${retried} failed job(s) of ${name} back to waiting`, { queue: name, retried });
    },
  },

  partitions: {
    summary: 'list or enable the monthly partitions of message_history',
    usage: `usage: im-message partitions [list | enable]
  list     partitions with their upper bound (a message id) and estimated rows (the default)
  enable   partition a table that is not yet (installations before migration 010): everything so far
           goes to this month's partition, then p_future; rebuilds the table, so run it on a small table
           or in a maintenance window (docs/operations.md). New installations are partitioned already.`,
    options: {},
    async run(ctx) {
      const action = ctx.positionals[0] ?? 'list';
      if (action !== 'list' && action !== 'enable') throw new Error(`unknown action "${action}": give list or enable`);
      await checkMysql(ctx.config);
      const pool = createPool({ url: ctx.config.mysql.url, size: 1 });
      const repo = partitionsRepository(pool);
      try {
        const notes: string[] = [];
        if (action === 'enable') {
          if ((await repo.list()).length > 0) {
            notes.push('message_history is already partitioned');
          } else {
            const first = monthPartition(monthStart(Date.now()));
            if (!ctx.json) process.stderr.write(`partitioning message_history: everything so far in ${first.name}, then p_future (this rebuilds the table)\n`);
            await repo.enable(first);
            const r = await maintainPartitions(repo, Date.now(), 3, 0);
            notes.push(`partitioned; added ${r.added.join(', ') || 'nothing'} ahead`);
          }
        }
        const parts = await repo.list();
        const lines = parts.map((p) => `${p.name.padEnd(10)} < ${p.lessThan.padEnd(20)} ~${p.rows} rows`);
        if (parts.length === 0) lines.push('message_history is not partitioned (im-message partitions enable)');
        out(ctx, [...notes, ...lines].join('\n'), parts);
      } finally {
        await pool.end();
      }
    },
  },

  reshard: {
    summary: "show the deployment's shard count, or change it without repeating a seq or stranding a job",
    usage: `usage: im-message reshard [N] [--wait-s SECONDS]
  without N   the deployment's shard count, generation and state
  N           change the shard count to N (1 to 256): sends are refused with 503 (safe to retry) while
              the queues drain and the admission state moves, usually a few seconds; every process
              then restarts on the new layout by itself. Progress on stderr. Interrupted, run it again.
  --wait-s S  how long to wait for the queues to drain before giving up, the shards open again (600)`,
    options: { 'wait-s': { type: 'string', default: '600' } },
    async run(ctx) {
      const redis = await connectRedis(ctx.config, 'im-cli-reshard');
      try {
        if (ctx.positionals[0] === undefined) {
          const record = await readDeployment(redis, ctx.config.queue.prefix);
          if (!record) {
            out(ctx, `no process has joined this deployment yet; its first one records queue.shards (${ctx.config.queue.shards})`, null);
            return;
          }
          const state = record.state === 'resharding' ? `resharding to ${record.target} (run \`im-message reshard ${record.target}\` to finish it)` : 'active';
          out(ctx, `${record.shards} shard(s), generation ${record.generation}, ${state}`, record);
          return;
        }
        const target = Number(ctx.positionals[0]);
        const waitS = Number(ctx.values['wait-s']);
        if (!Number.isInteger(target) || target < 1 || target > 256) throw new Error(`N must be a shard count from 1 to 256, got "${ctx.positionals[0]}"`);
        if (!Number.isFinite(waitS) || waitS < 1) throw new Error(`--wait-s must be a number of seconds, got "${ctx.values['wait-s']}"`);
        await checkMysql(ctx.config);
        const pool = createPool({ url: ctx.config.mysql.url, size: 2 });
        try {
          const messages = messagesRepository(pool);
          const recalls = recallsRepository(pool);
          const report = await reshard(
            {
              redis,
              config: ctx.config,
              conversationsOf: async (ids) =>
                new Map([...(await messages.findRefs(ids)), ...(await recalls.find(ids))].map((m) => [m.message_id, m.conversation] as const)),
              progress: (line) => !ctx.json && process.stderr.write(`${line}\n`),
              drainTimeoutMs: waitS * 1000,
            },
            target,
          );
          out(
            ctx,
            report.from === report.to
              ? `the deployment runs ${report.to} shard(s) already (generation ${report.generation})`
              : `resharded from ${report.from} to ${report.to} shard(s), generation ${report.generation}: ${report.countersMoved} seq counter(s) and ${report.recordsMoved} dedupe record(s) moved, ${report.recordsDropped} record(s) of sends never queued dropped`,
            report,
          );
        } finally {
          await pool.end();
        }
      } finally {
        await closeRedis(redis);
      }
    },
  },

  migrate: {
    summary: 'apply pending SQL migrations',
    usage: 'usage: im-message migrate',
    options: {},
    async run(ctx) {
      await checkMysql(ctx.config);
      const r = await migrate(ctx.config.mysql.url, { log: (m) => !ctx.json && process.stdout.write(`${m}\n`) });
      out(ctx, `schema at version ${r.current} (${r.applied.length} applied now)`, r);
    },
  },
};
