// Devices: what a message costs per device model, side by side in one run on one fleet.
//   npm run bench -- devices [--members 10000] [--rounds 3] [--week 700]
// For a 1:1 chat, a 200-member and a 10,000-member group (half the members online): time from the
// POST to the last member routed (published and heard, or stored), offline rows and bytes written
// per message, with every member on one device, and with a tenth of the members on a second device
// that is offline. Then a device back after a week: `--week` messages waiting in its sync, drained
// page by page.
import { parseArgs } from 'node:util';
import type { RowDataPacket } from 'mysql2/promise';
import { createRedis, presence } from '@im/redis';
import { createTestDatabase } from '../test/support/db';
import { randomUserBase, testRedisTarget } from '../test/support/env';
import { Fleet } from '../test/support/fleet';
import { waitFor } from '../test/support/wait';

const { values } = parseArgs({
  options: { members: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '3' }, week: { type: 'string', default: '700' } },
  allowPositionals: true,
});
const MEMBERS = Number(values.members);
const ROUNDS = Number(values.rounds);
const WEEK = Number(values.week);
const log = (m: string) => process.stderr.write(`[devices] ${m}\n`);

const db = await createTestDatabase();
const fleet = await new Fleet(db.url, { IM_LOG_LEVEL: 'error' }).startAll(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
const redis = createRedis(testRedisTarget(), 'worker', 'bench-devices');
const sub = createRedis(testRedisTarget(), 'subscriber', 'bench-devices-sub');
const pres = presence(redis);
const base = randomUserBase();
const uid = (n: number) => String(base + BigInt(n));

const heard = new Map<string, number>();
sub.on('message', (_c: string, raw: string) => {
  const id = /"message_id":"(\d+)"/.exec(raw)?.[1];
  if (id) heard.set(id, (heard.get(id) ?? 0) + 1);
});

async function users(from: number, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => uid(from + i));
  for (let i = 0; i < n; i += 2000) {
    const chunk = ids.slice(i, i + 2000);
    await db.pool.query(`INSERT IGNORE INTO \`user\` (id, name, created_at, updated_at) VALUES ${chunk.map(() => '(?, ?, 0, 0)').join(', ')}`, chunk.flatMap((m) => [m, 'member']));
  }
  return ids;
}

async function register(pairs: readonly [string, string][]): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < pairs.length; i += 2000) {
    const chunk = pairs.slice(i, i + 2000);
    await db.pool.query(
      `INSERT IGNORE INTO user_device (user_id, device_id, platform, created_at, last_seen_at) VALUES ${chunk.map(() => "(?, ?, 'unknown', ?, ?)").join(', ')}`,
      chunk.flatMap(([u, d]) => [u, d, now, now]),
    );
  }
}

/** Members of a conversation: half online on their `default` device; `twoDevices`: every tenth also has an offline `desktop`. */
async function setUp(members: string[], twoDevices: boolean): Promise<number> {
  await register(members.map((m) => [m, 'default']));
  await db.pool.query('DELETE FROM user_device WHERE device_id = ? AND user_id IN (?)', ['desktop', members]);
  if (twoDevices) await register(members.filter((_, i) => i % 10 === 0).map((m) => [m, 'desktop']));
  const online = members.filter((_, i) => i % 2 === 0);
  for (let i = 0; i < online.length; i += 1000) {
    const chunk = online.slice(i, i + 1000);
    await sub.subscribe(...chunk.map((m) => `user:${m}`));
    await Promise.all(chunk.map((m) => pres.set(m, 'default', 'gw-bench', 7200)));
  }
  // What "every member routed" means: each online member heard it once, each offline device has its row.
  return online.length + (members.length - online.length) + (twoDevices ? members.filter((_, i) => i % 10 === 0).length : 0);
}

async function rowBytes(): Promise<number> {
  await db.pool.query('ANALYZE TABLE offline_message');
  const [r] = await db.pool.query<RowDataPacket[]>(
    "SELECT DATA_LENGTH + INDEX_LENGTH AS bytes, TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'offline_message'",
  );
  return Number(r[0]!.n) > 0 ? Number(r[0]!.bytes) / Number(r[0]!.n) : 0;
}

interface Sample {
  ms: number;
  rows: number;
}

/** One message from the first member; ms until every member is routed (heard, or its rows stored). */
async function one(kind: 'single' | 'group', members: string[], target: string, expected: number): Promise<Sample> {
  const sender = members[0]!;
  const t0 = performance.now();
  const r =
    kind === 'single'
      ? await fleet.api.post('/v1/messages', { sender_id: sender, receiver_id: target, content: 'bench 📣' })
      : await fleet.api.post('/v1/group-messages', { sender_id: sender, group_id: target, content: 'bench 📣' });
  if (r.status !== 202) throw new Error(`send answered ${r.status}`);
  const id = r.body.message_id as string;
  let rows = 0;
  await waitFor(
    'every member routed',
    async () => {
      const [c] = await db.pool.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM offline_message WHERE message_id = ? AND kind = 'message'", [id]);
      rows = Number(c[0]!.n);
      return rows + (heard.get(id) ?? 0) >= expected;
    },
    120_000,
  );
  return { ms: performance.now() - t0, rows };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, { members: number; oneDevice: Sample[]; tenthOnTwo: Sample[] }> = {};

let next = 10;
for (const [name, size] of [
  ['1:1', 2],
  ['group of 200', 200],
  [`group of ${MEMBERS.toLocaleString('en')}`, MEMBERS],
] as const) {
  const members = await users(next, size);
  next += size + 10;
  let target = members[1]!;
  if (size > 2) {
    target = uid(next++);
    await fleet.api.put(`/v1/groups/${target}`, { name: 'bench group' });
    for (let i = 0; i < size; i += 10_000) await fleet.api.post(`/v1/groups/${target}/members`, { add: members.slice(i, i + 10_000) });
  }
  // A 1:1's receiver is the offline one (odd index): the case with rows.
  const kind = size > 2 ? 'group' : 'single';
  // Routed: every member but the sender's `default` (the origin: the send names no device); a
  // 1:1's sender has no other device unless it is one of the tenth.
  const routedOf = (expected: number) => (kind === 'single' ? 1 + (expected > 2 ? 1 : 0) : expected - 1);
  results[name] = { members: size, oneDevice: [], tenthOnTwo: [] };
  log(`${name}: ${ROUNDS} rounds, one device each then a tenth on two, alternating`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const two of [false, true]) {
      const expected = await setUp(members, two);
      const sample = await one(kind, members, target, routedOf(expected));
      (two ? results[name].tenthOnTwo : results[name].oneDevice).push(sample);
      log(`  ${two ? 'a tenth on two' : 'one device   '}: ${sample.ms.toFixed(0)} ms, ${sample.rows} rows`);
    }
  }
}
const bytesPerRow = await rowBytes();

// A device back after a week: WEEK messages waiting in its sync, drained 100 at a time.
const [alice, bob] = await users(next + 100, 2);
await register([[bob!, 'laptop']]);
log(`a device back after a week: ${WEEK} messages waiting`);
for (let i = 0; i < WEEK; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, WEEK - i) }, (_, k) => fleet.api.post('/v1/messages', { sender_id: alice, receiver_id: bob, content: `week ${i + k}` })));
}
await waitFor('the week in the laptop sync', async () => {
  const [c] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM offline_message WHERE user_id = ? AND device_id = ?', [bob, 'laptop']);
  return Number(c[0]!.n) >= WEEK;
}, 120_000);
const t0 = performance.now();
let pages = 0;
let items = 0;
for (let cursor: string | null = null; ; ) {
  const r: { body: any } = await fleet.api.get(`/v1/users/${bob}/devices/laptop/sync?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
  pages++;
  items += r.body.items.length;
  if (r.body.cursor) cursor = r.body.cursor;
  if (!r.body.has_more) {
    if (cursor) await fleet.api.get(`/v1/users/${bob}/devices/laptop/sync?limit=1&cursor=${cursor}`);
    break;
  }
}
const syncMs = performance.now() - t0;

const report = {
  at: new Date().toISOString(),
  rounds: ROUNDS,
  bytes_per_row: Math.round(bytesPerRow),
  conversations: Object.fromEntries(
    Object.entries(results).map(([k, v]) => [
      k,
      {
        members: v.members,
        one_device: { last_member_ms: median(v.oneDevice.map((s) => s.ms)), rows: median(v.oneDevice.map((s) => s.rows)) },
        tenth_on_two: { last_member_ms: median(v.tenthOnTwo.map((s) => s.ms)), rows: median(v.tenthOnTwo.map((s) => s.rows)) },
        ratio: median(v.tenthOnTwo.map((s) => s.ms)) / median(v.oneDevice.map((s) => s.ms)),
      },
    ]),
  ),
  week: { messages: WEEK, items, pages, ms: syncMs },
};
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
sub.disconnect();
redis.disconnect();
await fleet.stop();
await db.drop();
