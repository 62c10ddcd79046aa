import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect as tcp, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis as NodeConnection } from 'ioredis';
import { calculateSlot, closeRedis, createRedis, HEARD_UNKNOWN, publisher, waitForReady, type PubSubMode, type Redis } from '@im/redis';
import { randomUserBase, testServers } from '../support/env';
import { waitFor } from '../support/wait';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const nodes = (process.env.TEST_REDIS_CLUSTER_NODES ?? '').split(',').filter(Boolean);

/** A plain connection to one node of the cluster ("host:port"), outside the cluster client. */
function connect(address: string): NodeConnection {
  const i = address.lastIndexOf(':');
  return new NodeConnection({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
}

/**
 * Every command a node runs, as MONITOR prints it (`+1700000000.000000 [0 127.0.0.1:5000] "publish"
 * "user:1" "..."`), from a socket of its own: ioredis's monitor() can take a line that comes in the
 * same read as MONITOR's OK for a reply, on a busy server, and fail. Resolves once monitoring.
 */
function monitor(address: string, onLine: (line: string) => void): Promise<Socket> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = tcp({ host: address.slice(0, i), port: Number(address.slice(i + 1)) }, () => socket.write('MONITOR\r\n'));
    let buffered = '';
    let monitoring = false;
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\r\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (!monitoring && line === '+OK') {
          monitoring = true;
          resolve(socket);
        } else if (monitoring) onLine(line);
      }
    });
  });
}

/**
 * Publishing on Redis Cluster (@im/redis pubsub) as the contract's section 4 states it, checked on
 * the local cluster with connections to each primary of their own: classic PUBLISH of one channel
 * always runs on the primary that owns the channel name's slot, so subscribers on every node hear
 * a channel's messages in publish order, and its count is unknown; sharded SPUBLISH counts exactly.
 * The command line's tail follows a user's channel in both modes.
 */
describe('Pub/Sub on Redis Cluster', { skip: nodes.length === 0 ? 'no Redis Cluster (npm test starts one)' : false }, () => {
  const target = () => ({ redis_url: testServers().redisUrl, cluster_nodes: nodes });
  let cluster: Redis;
  /** Primary of each slot, as "host:port". */
  const owner: string[] = [];
  let primaries: string[] = [];
  const opened: NodeConnection[] = [];
  const base = randomUserBase();
  /** Channels of users spread over every primary. */
  const channels = Array.from({ length: 24 }, (_, i) => `user:${base + BigInt(i + 1)}`);

  before(async () => {
    // As worker-delivery connects.
    cluster = createRedis(target(), 'worker', 'im-test-pubsub');
    await waitForReady(cluster);
    const seed = connect(nodes[0]!);
    opened.push(seed);
    const ranges = (await seed.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
    for (const [from, to, [host, port]] of ranges) for (let s = from; s <= to; s++) owner[s] = `${host}:${port}`;
    primaries = [...new Set(ranges.map(([, , [host, port]]) => `${host}:${port}`))];
    assert.equal(primaries.length, 3, 'three primaries');
    assert.deepEqual(new Set(channels.map((c) => owner[calculateSlot(c)])), new Set(primaries), 'the channels spread over every primary');
  });

  after(async () => {
    for (const c of opened) c.disconnect();
    if (cluster) await closeRedis(cluster);
  });

  it('classic: runs every PUBLISH of a channel on the primary that owns its slot; counts are unknown', async () => {
    const seen = new Map<string, string[]>();
    const publishOf = /^\+\S+ \[[^\]]*\] "publish" "(user:\d+)"/i;
    const monitors = await Promise.all(
      primaries.map((address) =>
        monitor(address, (line) => {
          const channel = publishOf.exec(line)?.[1];
          if (channel === undefined || !channels.includes(channel)) return;
          seen.set(channel, [...(seen.get(channel) ?? []), address]);
        }),
      ),
    );
    const pairs = channels.flatMap((c) => [1, 2, 3].map((n) => [c, `routing ${n}`] as const));
    try {
      const heard = await publisher(cluster, 'classic').publishMany(pairs);
      assert.deepEqual(heard, pairs.map(() => HEARD_UNKNOWN), 'a count covers one node only: unknown');
      await waitFor('every publish seen by MONITOR', () => [...seen.values()].reduce((n, l) => n + l.length, 0) >= pairs.length);
    } finally {
      for (const m of monitors) m.destroy();
    }
    for (const c of channels) assert.deepEqual(seen.get(c), [1, 2, 3].map(() => owner[calculateSlot(c)]), `${c}: all three on the owner of slot ${calculateSlot(c)}`);
  });

  it('classic: a subscriber on any node hears each channel in publish order, from concurrent rounds', async (t) => {
    const ROUNDS = 40;
    const PER_CHANNEL = 5;
    // One subscriber on each primary, as gateways connected to different nodes.
    const received = primaries.map(() => new Map<string, number[]>());
    await Promise.all(
      primaries.map(async (address, i) => {
        const sub = connect(address);
        opened.push(sub);
        sub.on('message', (channel: string, raw: string) => {
          const list = received[i]!.get(channel) ?? [];
          list.push(Number(raw));
          received[i]!.set(channel, list);
        });
        await sub.subscribe(...channels);
      }),
    );
    // Rounds in flight at once, as a delivery worker's: each publishes the next numbers of every channel.
    const pub = publisher(cluster, 'classic');
    await Promise.all(
      Array.from({ length: ROUNDS }, (_, r) =>
        pub.publishMany(channels.flatMap((c) => Array.from({ length: PER_CHANNEL }, (_, k) => [c, String(r * PER_CHANNEL + k + 1)] as const))),
      ),
    );
    const total = ROUNDS * PER_CHANNEL;
    await waitFor('every subscriber heard every message', () => received.every((m) => channels.every((c) => (m.get(c)?.length ?? 0) >= total)));
    let inversions = 0;
    for (const m of received) for (const got of m.values()) for (let k = 1; k < got.length; k++) if (got[k]! < got[k - 1]!) inversions++;
    t.diagnostic(`${inversions} arrivals out of publish order, of ${primaries.length * channels.length * total}`);
    assert.equal(inversions, 0);
    const expected = Array.from({ length: total }, (_, k) => k + 1);
    received.forEach((m, i) => {
      for (const c of channels) assert.deepEqual(m.get(c), expected, `${c} heard on ${primaries[i]} (owner ${owner[calculateSlot(c)]}) once each, in order`);
    });
  });

  it('sharded: counts exactly who heard, per channel', async () => {
    const sub = createRedis(target(), 'subscriber', 'im-test-pubsub-ssub');
    try {
      const heardBy: string[] = [];
      sub.on('smessage', (channel: string) => heardBy.push(channel));
      await sub.ssubscribe(channels[0]!);
      const heard = await publisher(cluster, 'sharded').publishMany([
        [channels[0]!, 'counted'],
        [channels[1]!, 'nobody'],
      ]);
      assert.deepEqual(heard, [1, 0]);
      await waitFor('the subscriber heard it', () => heardBy.length === 1);
      assert.deepEqual(heardBy, [channels[0]]);
    } finally {
      sub.disconnect();
    }
  });

  for (const mode of ['classic', 'sharded'] as const satisfies readonly PubSubMode[]) {
    it(`im-message tail follows a user's channel with ${mode} Pub/Sub`, async () => {
      const user = String(base + 100n + (mode === 'classic' ? 1n : 2n));
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IM_')) env[k] = v;
      const tail = spawn(process.execPath, ['apps/cli/bin/im-message.mjs', 'tail', user], {
        cwd: ROOT,
        env: { ...env, REDIS_URL: testServers().redisUrl, MYSQL_URL: testServers().mysqlUrl, REDIS_CLUSTER_NODES: nodes.join(','), IM_QUEUE_PUBSUB: mode },
      });
      let output = '';
      let errors = '';
      tail.stdout.on('data', (c: Buffer) => (output += c.toString()));
      tail.stderr.on('data', (c: Buffer) => (errors += c.toString()));
      try {
        await waitFor('tail listening', () => errors.includes(`listening on user:${user}`), 30_000);
        const event = JSON.stringify({ event: 'message', message_id: '42', seq: 1, sender_id: '7', receiver_id: user, content: `live ${mode}`, timestamp: Date.now() });
        await publisher(cluster, mode).publish(`user:${user}`, event);
        await waitFor(`the ${mode} message on the tail`, () => output.includes(`live ${mode}`));
        assert.match(output, new RegExp(`user:${user} {2}message {2}42 {2}from 7: live ${mode}`));
      } finally {
        tail.kill('SIGINT');
      }
    });
  }
});
