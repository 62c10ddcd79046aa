import type { Config } from '@im/config';
import type { Logger } from '@im/logger';
import { topology, type Redis, type Topology } from '@im/redis';
import { every } from './process';

/**
 * The shard count belongs to the deployment, not to a process: one record in Redis (in shard 0's
 * slot, `{prefix}:topology`) says how many shards the fleet runs and in which generation. The
 * first process of a new deployment writes it from its queue.shards; every later process follows
 * the record, whatever its own queue.shards says, so a rolling update that changes the setting
 * cannot split the fleet. Only `im-message reshard N` changes the record (reshard.ts), and a
 * process that sees the generation change stops so that it starts again on the new layout.
 *
 * Each shard holds the generation allowed to admit into it (`im:{tag}:generation`); ingest's
 * admission script passes its own and is refused on any other (docs/scaling.md).
 */
export interface DeploymentRecord {
  shards: number;
  generation: number;
  /** 'resharding' while `im-message reshard` moves the state to `target` shards. */
  state: 'active' | 'resharding';
  target: number | null;
}

/** The key of a deployment's shard count before the record existed (older releases). */
export const legacyShardsKey = (prefix: string) => `${prefix}:shards`;

/** Creates the record if there is none (atomically: of two processes starting at once, one writes it); returns it as it is. */
const JOIN_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'shards', ARGV[1], 'generation', '1', 'state', 'active')
  return 1
end
return 0`;

function parseRecord(h: Record<string, string>): DeploymentRecord | undefined {
  if (!h.shards) return undefined;
  return {
    shards: Number(h.shards),
    generation: Number(h.generation ?? 1),
    state: h.state === 'resharding' ? 'resharding' : 'active',
    target: h.target ? Number(h.target) : null,
  };
}

/** The deployment's record, or undefined for a deployment no process has joined yet. */
export async function readDeployment(redis: Redis, prefix: string): Promise<DeploymentRecord | undefined> {
  return parseRecord(await redis.hgetall(topology({ prefix, shards: 1 }).recordKey));
}

/** Lets every shard of the record admit in its generation (SET, or only where none is set yet). */
export async function openShards(redis: Redis, topo: Topology, generation: number, overwrite: boolean): Promise<void> {
  await Promise.all(topo.all.map((s) => (overwrite ? redis.set(s.keys.generation, String(generation)) : redis.set(s.keys.generation, String(generation), 'NX'))));
}

export interface Deployment {
  record: DeploymentRecord;
  topology: Topology;
}

/**
 * Joins the deployment: creates its record from queue.shards when there is none, and returns the
 * layout the record says, with a warning when it differs from this process's queue.shards. A
 * deployment of an older release (its shard count under `{prefix}:shards`, its admission state in
 * the `{adm}` tags) is refused until `im-message reshard` has moved it once.
 */
export async function joinDeployment(redis: Redis, config: Config, log: Logger): Promise<Deployment> {
  const prefix = config.queue.prefix;
  const recordKey = topology({ prefix, shards: 1 }).recordKey;
  let record = await readDeployment(redis, prefix);
  if (!record) {
    const legacy = Number(await redis.get(legacyShardsKey(prefix))) || 0;
    if (legacy > 0) {
      throw new Error(
        `this deployment was run by an older release (${legacy} shard(s), admission state in the {adm} hash tags): ` +
          `stop every ingest-api of it, then run \`im-message reshard ${legacy}\` once, which moves that state to the current layout; then start the fleet`,
      );
    }
    const created = Number(await redis.eval(JOIN_LUA, 1, recordKey, config.queue.shards)) === 1;
    record = (await readDeployment(redis, prefix))!;
    if (created) {
      await openShards(redis, topology({ prefix, shards: record.shards }), record.generation, true);
      log.info({ shards: record.shards }, 'a new deployment: its shard count recorded in Redis');
    }
  }
  const topo = topology({ prefix, shards: record.shards });
  // A shard that lost its generation key (a Redis that lost writes) gets it back; one a reshard
  // is moving (0) or that belongs to another generation keeps its own.
  if (record.state === 'active') await openShards(redis, topo, record.generation, false);
  if (record.shards !== config.queue.shards) {
    log.warn(
      { configured: config.queue.shards, deployment: record.shards },
      `queue.shards is ${config.queue.shards} here, but the deployment runs ${record.shards} shard(s): following the deployment (\`im-message reshard N\` changes it)`,
    );
  }
  return { record, topology: topo };
}

/**
 * Calls `onChange` once when the deployment's generation moves past `generation` (a reshard
 * finished): the process then stops, and starts again on the new layout. Polls every 2 s.
 */
export function watchDeployment(redis: Redis, prefix: string, generation: number, onChange: (record: DeploymentRecord) => void, log: Logger): () => void {
  let fired = false;
  const stop = every(
    2000,
    async () => {
      const record = await readDeployment(redis, prefix);
      if (fired || !record || record.generation === generation) return;
      fired = true;
      stop();
      onChange(record);
    },
    (err) => log.debug({ err }, 'could not read the deployment record; trying again'),
  );
  return stop;
}
