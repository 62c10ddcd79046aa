// Query plans and search cost of the read side on a large message_history.
//   node bench/run.mjs read-side [--rows 1000000]
// Fills a fresh database with synthetic history, then measures the search of one user at two
// table sizes (a fifth of the rows, then all of them) and prints EXPLAIN of every read query.
import { parseArgs } from 'node:util';
import type { RowDataPacket } from 'mysql2/promise';
import { conversationsRepository, messagesRepository } from '@im/db';
import { createTestDatabase } from '../test/support/db';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } }, allowPositionals: true });
const ROWS = Number(values.rows);
const log = (m: string) => process.stderr.write(`[read-side] ${m}\n`);

const WORDS = ['hello', 'meeting', 'Report', 'lunch', 'project', 'deadline', 'Quarterly', 'photo', 'call', 'ok'];
const CJK = ['你好', '明天', '开会', '项目', '午饭', '照片', '电话', '好的', '周末', '报告'];
const EMOJI = ['😀', '👍', '🎉', '📈', '🚀'];

const db = await createTestDatabase();
const messages = messagesRepository(db.pool);
const conversations = conversationsRepository(db.pool);

const USERS = 10_000;
const target = '42';
const targetPeers = Array.from({ length: 50 }, (_, i) => String(1000 + i));
const t0 = Date.UTC(2026, 0, 1);
let seq = 0;
let nextId = 1n << 40n;

/** Deterministic pseudo-random pick from a row number. */
function pick(n: number, salt: number, size: number): number {
  let h = Math.imul((n * 31 + salt) ^ ((n * 31 + salt) >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return ((h ^ (h >>> 16)) >>> 0) % size;
}

function content(n: number): string {
  return `${WORDS[pick(n, 1, 10)]} ${CJK[pick(n, 2, 10)]} ${WORDS[pick(n, 3, 10)]} ${pick(n, 4, 50) === 0 ? EMOJI[pick(n, 5, 5)] : ''} #${n}`;
}

/**
 * Inserts `count` rows among other users; with `mine`, one row in 20 is in the target user's
 * conversations. The target's rows all go in with the first fill, so the second fill grows only
 * the table, not what the user's search has to examine.
 */
async function fill(count: number, mineShare: boolean): Promise<void> {
  const started = performance.now();
  for (let done = 0; done < count; ) {
    const n = Math.min(5000, count - done);
    const batch = [];
    for (let i = 0; i < n; i++) {
      const k = done + i + seq;
      const mine = mineShare && k % 20 === 0;
      const a = mine ? target : String(100_000 + (k % USERS));
      const b = mine ? targetPeers[pick(k, 6, targetPeers.length)]! : String(100_000 + ((k * 31 + 7) % USERS));
      nextId += 1n;
      batch.push({
        message_id: nextId.toString(),
        seq: k + 1,
        sender_id: a,
        receiver_id: b === a ? String(Number(b) + 1) : b,
        group_id: null,
        content: content(k),
        message_type: 'text' as const,
        created_at: t0 + k * 1000,
        client_msg_id: null,
      });
    }
    await messages.insertMany(batch);
    await conversations.record(batch.filter((m) => m.sender_id === target));
    done += n;
    if (done % 100_000 === 0) log(`${done + seq}/${ROWS} rows (${Math.round(done / ((performance.now() - started) / 1000))} rows/s)`);
  }
  seq += count;
}

async function explain(label: string, sql: string, params: unknown[]): Promise<string> {
  const [rows] = await db.pool.query<RowDataPacket[]>(`EXPLAIN ${sql}`, params);
  const cols = ['table', 'type', 'key', 'key_len', 'rows', 'Extra'];
  return [`**${label}**`, '', `| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${cols.map((c) => String(r[c] ?? '')).join(' | ')} |`), ''].join('\n');
}

async function timeSearch(keyword: string, start: number, end: number, runs = 15) {
  const convs = await conversations.allOf(target);
  const times: number[] = [];
  let found = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    found = (await messages.search(convs, keyword, start, end, 50)).length;
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(runs / 2)]!, p90: times[Math.floor(runs * 0.9)]!, found };
}

const cases: [string, string, number, number][] = [
  ['CJK two characters, all time', '开会', 0, Number.MAX_SAFE_INTEGER],
  ['Latin, other case, all time', 'quarterly', 0, Number.MAX_SAFE_INTEGER],
  ['emoji, all time', '🎉', 0, Number.MAX_SAFE_INTEGER],
  ['no match, all time', 'zebra', 0, Number.MAX_SAFE_INTEGER],
  ['CJK, one day', '开会', t0, t0 + 86_400_000],
];

try {
  const small = Math.round(ROWS / 5);
  log(`filling ${small} rows`);
  await fill(small, true);
  const atSmall: { label: string; median: number; p90: number; found: number }[] = [];
  for (const [label, kw, s, e] of cases) atSmall.push({ label, ...(await timeSearch(kw, s, e)) });
  log(`filling up to ${ROWS} rows`);
  await fill(ROWS - small, false);
  await db.pool.query('ANALYZE TABLE message_history');
  const atFull = [];
  for (const [label, kw, s, e] of cases) atFull.push({ label, ...(await timeSearch(kw, s, e)) });

  const [[count]] = (await db.pool.query('SELECT COUNT(*) AS n FROM message_history')) as unknown as [[{ n: string }]];
  const [[mine]] = (await db.pool.query("SELECT COUNT(*) AS n FROM message_history WHERE sender_id = ?", [target])) as unknown as [[{ n: string }]];
  const convs = await conversations.allOf(target);
  const out: string[] = [];
  out.push(`Table: ${Number(count.n).toLocaleString('en')} rows; the searching user is in ${convs.length} conversations holding ${Number(mine.n).toLocaleString('en')} of them, all written before the table grew from ${small.toLocaleString('en')} rows.`, '');
  out.push(`| query | found | median ms at ${small.toLocaleString('en')} rows | median ms at ${ROWS.toLocaleString('en')} rows | p90 ms at ${ROWS.toLocaleString('en')} |`, '|---|---|---|---|---|');
  atFull.forEach((f, i) => out.push(`| ${f.label} | ${f.found} | ${atSmall[i]!.median.toFixed(1)} | ${f.median.toFixed(1)} | ${f.p90.toFixed(1)} |`));
  out.push('');
  out.push(
    await explain(
      'search (one user, keyword, time range)',
      `SELECT message_id FROM message_history WHERE conversation IN (?) AND created_at BETWEEN ? AND ? AND LOWER(content) COLLATE utf8mb4_bin LIKE CONCAT('%', LOWER(?), '%') COLLATE utf8mb4_bin ORDER BY created_at DESC, message_id DESC LIMIT 50`,
      [convs, 0, Number.MAX_SAFE_INTEGER, '开会'],
    ),
  );
  out.push(await explain('history page', 'SELECT message_id FROM message_history WHERE conversation = ? AND seq < ? ORDER BY seq DESC LIMIT 51', [convs[0], 1_000_000]));
  out.push(await explain('seq seed', 'SELECT COALESCE(MAX(seq), 0) FROM message_history WHERE conversation = ?', [convs[0]]));
  out.push(
    await explain(
      'conversation list',
      `(SELECT conversation, peer_id, NULL AS group_id, updated_at FROM user_conversation WHERE user_id = ? ORDER BY updated_at DESC LIMIT ?)
       UNION ALL (SELECT s.conversation, NULL, m.group_id, s.updated_at FROM group_member m JOIN conversation_state s ON s.conversation = CONCAT('g:', m.group_id) WHERE m.user_id = ?)
       ORDER BY updated_at DESC LIMIT ?`,
      [target, 50, target, 50],
    ),
  );
  out.push(
    await explain(
      'offline pull',
      'SELECT o.message_id FROM offline_message o JOIN message_history h ON h.message_id = o.message_id LEFT JOIN `user` u ON u.id = h.sender_id LEFT JOIN im_group g ON g.id = h.group_id WHERE o.user_id = ? ORDER BY o.message_id LIMIT 101',
      [target],
    ),
  );
  out.push(await explain('recall: pending offline rows of a message', 'DELETE FROM offline_message WHERE message_id = ?', ['1']));
  process.stdout.write(out.join('\n') + '\n');
} finally {
  await db.drop();
}
