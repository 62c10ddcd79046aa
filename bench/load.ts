// A first load run: the fleet end to end on the local test stack, single and batch sends, with
// half of the receivers online behind a simulated gateway. Prints messages/s routed end to end.
//   npm run bench -- [--messages 20000] [--concurrency 32]
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { createTestDatabase } from '../test/support/db';
import { randomUserBase, TEST_TOKEN, testServers } from '../test/support/env';
import { Fleet } from '../test/support/fleet';
import { waitFor } from '../test/support/wait';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    users: { type: 'string', default: '1000' },
    'group-members': { type: 'string', default: '10000' },
  },
});
const N = Number(values.messages);
const CONCURRENCY = Number(values.concurrency);
const USERS = Number(values.users);
const GROUP_MEMBERS = Number(values['group-members']);

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

// node:http with keep-alive: fetch costs the load generator several times more CPU per request,
// and on two shared cores that would measure the client instead of the fleet.
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function post(base: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      base + path,
      { method: 'POST', agent, headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const db = await createTestDatabase();
const fleet = await new Fleet(db.url, { IM_LOG_LEVEL: 'error' }).startAll(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
const base = randomUserBase();
const users = Array.from({ length: USERS }, (_, i) => String(base + BigInt(i + 1)));
for (let i = 0; i < users.length; i += 50) await Promise.all(users.slice(i, i + 50).map((u) => fleet.api.put(`/v1/users/${u}`, { name: `user ${u}` })));

// Half online: one subscriber connection holds them all, presence set directly as a gateway may.
const online = users.filter((_, i) => i % 2 === 0);
const sub = new Redis(testServers().redisUrl);
let heard = 0;
const heardByMessage = new Map<string, number>();
sub.on('message', (_channel: string, raw: string) => {
  heard++;
  const id = (JSON.parse(raw) as { message_id: string }).message_id;
  heardByMessage.set(id, (heardByMessage.get(id) ?? 0) + 1);
});
await sub.subscribe(...online.map((u) => `user:${u}`));
const redis = new Redis(testServers().redisUrl);
await redis.mset(...online.flatMap((u) => [`im:presence:${u}`, 'gw-bench']));
for (const u of online) await redis.expire(`im:presence:${u}`, 3600);

async function routedCount(): Promise<number> {
  const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message');
  return Number(rows[0]!.n) + heard;
}

async function run(name: string, total: number, perRequest: number): Promise<number> {
  const before = await routedCount();
  let next = 0;
  let done = 0;
  const started = performance.now();
  const progress = setInterval(() => log(`${name}: ${done}/${total} accepted`), 2000);
  const worker = async () => {
    while (next < total) {
      const start = next;
      next += perRequest;
      const items = Array.from({ length: Math.min(perRequest, total - start) }, (_, i) => {
        const n = start + i;
        return { sender_id: users[n % USERS], receiver_id: users[(n * 7 + 1) % USERS], content: `bench message ${n} 你好 🚀` };
      });
      const r = perRequest === 1 ? await post(fleet.baseUrl, '/v1/messages', items[0]) : await post(fleet.baseUrl, '/v1/messages/batch', { messages: items });
      if (r.status !== 202 && r.status !== 200) throw new Error(`${name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      done += items.length;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const acceptedS = (performance.now() - started) / 1000;
  await waitFor(`${name}: all routed`, async () => (await routedCount()) - before >= total, 300_000);
  clearInterval(progress);
  const s = (performance.now() - started) / 1000;
  log(`${name}: ${total} messages accepted in ${acceptedS.toFixed(2)} s, routed end to end in ${s.toFixed(2)} s = ${(total / s).toFixed(0)} messages/s`);
  return total / s;
}

/** One message to a group of GROUP_MEMBERS (half online): time from POST to the last member routed. */
async function groupFanout(): Promise<{ ms: number; deliveriesPerS: number }> {
  const members = Array.from({ length: GROUP_MEMBERS }, (_, i) => String(base + 1_000_000n + BigInt(i)));
  for (let i = 0; i < members.length; i += 2000) {
    const chunk = members.slice(i, i + 2000);
    await db.pool.query(`INSERT INTO \`user\` (id, name, created_at, updated_at) VALUES ${chunk.map(() => '(?, ?, 0, 0)').join(', ')}`, chunk.flatMap((m) => [m, 'member']));
  }
  const group = String(base + 999_999n);
  await fleet.api.put(`/v1/groups/${group}`, { name: 'bench group' });
  for (let i = 0; i < members.length; i += 10_000) await fleet.api.post(`/v1/groups/${group}/members`, { add: members.slice(i, i + 10_000) });
  const onlineMembers = members.filter((_, i) => i % 2 === 0);
  for (let i = 0; i < onlineMembers.length; i += 1000) await sub.subscribe(...onlineMembers.slice(i, i + 1000).map((u) => `user:${u}`));
  await redis.mset(...onlineMembers.flatMap((u) => [`im:presence:${u}`, 'gw-bench']));
  const started = performance.now();
  const r = await post(fleet.baseUrl, '/v1/group-messages', { sender_id: members[0], group_id: group, content: 'to everyone 📣' });
  if (r.status !== 202) throw new Error(`group send: HTTP ${r.status}`);
  const id = r.body.message_id as string;
  await waitFor(
    'every member routed',
    async () => {
      const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message WHERE message_id = ?', [id]);
      return Number(rows[0]!.n) + (heardByMessage.get(id) ?? 0) >= GROUP_MEMBERS - 1;
    },
    120_000,
  );
  const ms = performance.now() - started;
  log(`group of ${GROUP_MEMBERS}: last member routed ${ms.toFixed(0)} ms after the POST (${((GROUP_MEMBERS - 1) / (ms / 1000)).toFixed(0)} deliveries/s)`);
  return { ms, deliveriesPerS: (GROUP_MEMBERS - 1) / (ms / 1000) };
}

try {
  const single = await run('single sends (1 per POST)', Math.min(N, 10_000), 1);
  await sleep(500);
  const batch = await run('batch sends (100 per POST)', N, 100);
  await sleep(500);
  const fan = await groupFanout();
  process.stdout.write(
    JSON.stringify({
      messages: N,
      concurrency: CONCURRENCY,
      users: USERS,
      online_share: 0.5,
      single_msgs_per_s: Math.round(single),
      batch_msgs_per_s: Math.round(batch),
      group_members: GROUP_MEMBERS,
      group_last_member_ms: Math.round(fan.ms),
      group_deliveries_per_s: Math.round(fan.deliveriesPerS),
    }) + '\n',
  );
} finally {
  agent.destroy();
  sub.disconnect();
  redis.disconnect();
  await fleet.stop();
  await db.drop();
}
