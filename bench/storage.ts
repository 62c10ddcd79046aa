// Storage of message_history, compressed and not: bytes per message, insert rate and search time.
//   npm run bench -- storage [--rows 200000] [--runs 5]
// Builds a mixed corpus (short chat lines in Latin, CJK and emoji; long texts of 1-4 KB; URLs of
// image and file messages), loads the same rows into copies of message_history in a scratch
// database (CREATE TABLE ... LIKE: the migrations' columns, keys and partitions), one per storage
// option this server has, and writes bench-out/<time>/storage.md and storage.json.
//   none               the table as the migrations make it
//   row compressed     ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8 (InnoDB table compression: MariaDB and MySQL)
//   page compressed    MariaDB PAGE_COMPRESSED=1 / MySQL COMPRESSION='zlib' (transparent page
//                      compression: hole punching in the file system)
//   column compressed  MariaDB only: content MEDIUMTEXT COMPRESSED (zlib per value above 100 bytes)
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { firstIdAt } from '@im/contracts';
import { createTestDatabase } from '../test/support/db';
import { cpuMeter, pidListeningOn, portOf } from './proc';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, runs: { type: 'string', default: '5' } }, allowPositionals: true });
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);
const log = (m: string) => process.stderr.write(`[storage ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const startedAt = new Date().toISOString();
const load0 = loadavg().map((x) => Math.round(x * 100) / 100);

// ---- the corpus: deterministic, so every run and every table gets the same rows --------------
let seed = 0x9e3779b9;
function rand(): number {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

const LATIN = (
  'the a to and of is in it you that for on are with this be have not at we can will your do was what all so but just my me get ' +
  'if about out up like now know one time there how when see think good new more our they could been today tomorrow meeting ' +
  'call later thanks please yes no ok sure sounds great lunch dinner coffee project deadline report review release update ' +
  'draft slides client budget team weekend morning evening tonight office home train flight hotel photo video file link ' +
  'send check fixed broken build test deploy server database issue ticket branch merge ready done sorry late running ' +
  'minutes hour week month quarterly numbers sales figures agenda notes summary question answer idea plan schedule ' +
  'monday tuesday wednesday thursday friday happy birthday congrats welcome back'
).split(' ');
const CJK_WORDS = (
  '你好 我们 明天 今天 开会 项目 报告 午饭 晚饭 咖啡 周末 电话 照片 视频 文件 链接 好的 谢谢 没问题 马上 稍等 已经 ' +
  '完成 修复 上线 测试 服务器 数据库 客户 预算 团队 时间 地点 安排 计划 问题 答案 想法 同意 不行 可以 一起 出发 ' +
  '到了 路上 堵车 下班 加班 辛苦 生日 快乐 恭喜 欢迎 回来 こんにちは ありがとう 会議 明日 了解 안녕하세요 감사합니다 회의'
).split(' ');
const EMOJI = ['😀', '😂', '👍', '🎉', '🙏', '❤️', '🔥', '🚀', '😅', '👀', '✅', '📎', '🤔', '😭', '👋'];
const PUNCT = ['', '', '', '.', '!', '?', '...', ','];

function latinLine(words: number): string {
  const w = Array.from({ length: words }, () => pick(LATIN));
  w[0] = w[0]!.charAt(0).toUpperCase() + w[0]!.slice(1);
  return w.join(' ') + pick(PUNCT);
}
function cjkLine(words: number): string {
  return Array.from({ length: words }, () => pick(CJK_WORDS)).join(rand() < 0.3 ? ' ' : '') + pick(['', '。', '！', '？', '～']);
}
function emojiLine(): string {
  const parts = [rand() < 0.5 ? latinLine(between(1, 6)) : cjkLine(between(1, 4))];
  for (let i = between(1, 4); i > 0; i--) parts.push(pick(EMOJI));
  return parts.join(rand() < 0.5 ? ' ' : '');
}
/** A long text of about `bytes` UTF-8 bytes: paragraphs of Latin or CJK sentences. */
function longText(bytes: number): string {
  const cjk = rand() < 0.35;
  let s = '';
  while (Buffer.byteLength(s) < bytes) {
    const sentence = cjk ? cjkLine(between(6, 18)) : latinLine(between(8, 24));
    s += sentence + (rand() < 0.15 ? '\n\n' : ' ');
  }
  return s.trim();
}
const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
const FILES = ['report', 'slides', 'invoice', 'contract', 'notes', 'budget', 'design', 'minutes', 'screenshot', 'export'];
const EXTS = ['pdf', 'docx', 'xlsx', 'pptx', 'zip', 'txt', 'csv'];

interface Row {
  message_id: string;
  conversation: string;
  seq: number;
  sender_id: string;
  receiver_id: string;
  message_type: 'text' | 'image' | 'file';
  content: string;
  client_msg_id: string;
  created_at: number;
}

const USERS = 5_000;
const TARGET = '42';
const TARGET_PEERS = Array.from({ length: 60 }, (_, i) => String(1_000 + i));
const T0 = Date.UTC(2026, 10, 1);
const firstId = BigInt(firstIdAt(Date.now()));
const seqs = new Map<string, number>();
/** The kinds of message in the corpus, with their shares. */
const MIX = { latin: 0.42, cjk: 0.2, emoji: 0.12, long: 0.05, image: 0.13, file: 0.08 } as const;
const kindCounts: Record<string, number> = {};

function row(n: number): Row {
  const mine = n % 25 === 0; // one message in 25 is in one of the searching user's conversations
  const a = mine ? TARGET : String(100_000 + between(0, USERS - 1));
  let b = mine ? pick(TARGET_PEERS) : String(100_000 + between(0, USERS - 1));
  if (b === a) b = String(Number(b) + 1);
  const [lo, hi] = BigInt(a) < BigInt(b) ? [a, b] : [b, a];
  const conversation = `s:${lo}:${hi}`;
  const seq = (seqs.get(conversation) ?? 0) + 1;
  seqs.set(conversation, seq);
  const created = T0 + n * 250;
  let r = rand();
  let kind = 'latin';
  for (const [k, share] of Object.entries(MIX)) {
    if (r < share) {
      kind = k;
      break;
    }
    r -= share;
  }
  kindCounts[kind] = (kindCounts[kind] ?? 0) + 1;
  let content: string;
  let type: Row['message_type'] = 'text';
  switch (kind) {
    case 'cjk':
      content = cjkLine(between(1, 10));
      break;
    case 'emoji':
      content = emojiLine();
      break;
    case 'long':
      content = longText(between(1024, 4096));
      break;
    case 'image':
      type = 'image';
      content = `https://media.example.com/im/${new Date(created).toISOString().slice(0, 10).replace(/-/g, '/')}/${hex(32)}.${pick(['jpg', 'png', 'webp', 'heic'])}?w=${pick([640, 1080, 1280, 1920])}&h=${pick([480, 720, 960, 1440])}`;
      break;
    case 'file':
      type = 'file';
      content = `https://files.example.com/im/${hex(24)}/${pick(FILES)}-${between(1, 999)}.${pick(EXTS)}?size=${between(10_000, 50_000_000)}`;
      break;
    default:
      content = latinLine(between(1, 14));
  }
  return { message_id: String(firstId + BigInt(n)), conversation, seq, sender_id: a, receiver_id: b, message_type: type, content, client_msg_id: `c-${hex(12)}`, created_at: created };
}

// ---- the tables -------------------------------------------------------------------------------
const db = await createTestDatabase();
const [[{ v: version }]] = (await db.pool.query('SELECT VERSION() AS v')) as unknown as [[{ v: string }]];
const mariadb = /mariadb/i.test(version);
const variable = async (name: string) => {
  const [r] = await db.pool.query<RowDataPacket[]>(`SHOW VARIABLES LIKE ?`, [name]);
  return r[0] ? String(r[0].Value) : undefined;
};
const status = async (name: string) => {
  const [r] = await db.pool.query<RowDataPacket[]>(`SHOW GLOBAL STATUS LIKE ?`, [name]);
  return r[0] ? String(r[0].Value) : undefined;
};
interface Variant {
  table: string;
  label: string;
  /** The statement that turns the copy into this variant; what exists where. */
  alter?: string;
  engines: string;
}
const variants: Variant[] = [
  { table: 'h_none', label: 'none', engines: 'both' },
  { table: 'h_row', label: 'row compressed (KEY_BLOCK_SIZE=8)', alter: 'ALTER TABLE h_row ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8', engines: 'MariaDB and MySQL (same syntax)' },
  mariadb
    ? { table: 'h_page', label: 'page compressed (PAGE_COMPRESSED=1)', alter: 'ALTER TABLE h_page PAGE_COMPRESSED=1', engines: 'MariaDB only (MySQL: COMPRESSION=\'zlib\')' }
    : { table: 'h_page', label: "page compressed (COMPRESSION='zlib')", alter: "ALTER TABLE h_page COMPRESSION='zlib'", engines: 'MySQL only (MariaDB: PAGE_COMPRESSED=1)' },
  ...(mariadb ? [{ table: 'h_col', label: 'column compressed (content MEDIUMTEXT COMPRESSED)', alter: 'ALTER TABLE h_col MODIFY content MEDIUMTEXT COMPRESSED NOT NULL', engines: 'MariaDB only (10.3+)' }] : []),
];

const mysqlPid = pidListeningOn(portOf(db.url));
const results: Record<string, any> = {};
const COLUMNS = 'message_id, conversation, seq, sender_id, receiver_id, message_type, content, client_msg_id, created_at';
const BATCH = 500; // worker-persist's statement size

/** Allocated bytes of a table's tablespaces (every partition): what the files take on disk. */
async function tablespaceBytes(table: string): Promise<{ file: number; allocated: number }> {
  const source = mariadb ? 'information_schema.INNODB_SYS_TABLESPACES' : 'information_schema.INNODB_TABLESPACES';
  const [r] = await db.pool.query<RowDataPacket[]>(`SELECT COALESCE(SUM(FILE_SIZE), 0) AS file, COALESCE(SUM(ALLOCATED_SIZE), 0) AS allocated FROM ${source} WHERE NAME = ? OR NAME LIKE ?`, [
    `${db.name}/${table}`,
    `${db.name}/${table}#P#%`,
  ]);
  return { file: Number(r[0]!.file), allocated: Number(r[0]!.allocated) };
}
/** The same from the .ibd files, when the server's data directory is on this machine. */
async function fileBytes(table: string): Promise<{ size: number; blocks: number } | null> {
  const dir = join(String(await variable('datadir')), db.name);
  try {
    let size = 0;
    let blocks = 0;
    for (const name of readdirSync(dir)) {
      if (name === `${table}.ibd` || (name.startsWith(`${table}#P#`) && name.endsWith('.ibd'))) {
        const st = statSync(join(dir, name));
        size += st.size;
        blocks += st.blocks * 512;
      }
    }
    return size > 0 ? { size, blocks } : null;
  } catch {
    return null;
  }
}

try {
  log(`${version}: building ${ROWS.toLocaleString('en')} rows`);
  const rows = Array.from({ length: ROWS }, (_, n) => row(n));
  const contentBytes = rows.reduce((s, r) => s + Buffer.byteLength(r.content), 0);
  for (const v of variants) {
    await db.pool.query(`CREATE TABLE ${v.table} LIKE message_history`);
    if (v.alter) await db.pool.query(v.alter);
  }
  const [created] = await db.pool.query<RowDataPacket[]>(
    'SELECT TABLE_NAME AS t, ROW_FORMAT AS f, CREATE_OPTIONS AS o FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE ?',
    ['h\\_%'],
  );
  const options = Object.fromEntries(created.map((r) => [r.t, `${r.f}; ${r.o || '-'}`]));

  // Load each table in turn with the same rows, 500 a statement, then flush its pages to disk
  // (FLUSH TABLES ... FOR EXPORT) so that compression done when pages are written is counted.
  for (const v of variants) {
    log(`${v.label}: loading`);
    const saved0 = Number((await status('Innodb_page_compression_saved')) ?? 0);
    const meter = cpuMeter(mysqlPid ? { mariadbd: mysqlPid } : {});
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += BATCH) {
      const chunk = rows.slice(i, i + BATCH);
      await db.pool.query<ResultSetHeader>(
        `INSERT IGNORE INTO ${v.table} (${COLUMNS}) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((r) => [r.message_id, r.conversation, r.seq, r.sender_id, r.receiver_id, r.message_type, r.content, r.client_msg_id, r.created_at]),
      );
    }
    const insertS = (performance.now() - t0) / 1000;
    const conn = await db.pool.getConnection();
    const f0 = performance.now();
    await conn.query(`FLUSH TABLES ${v.table} FOR EXPORT`);
    await conn.query('UNLOCK TABLES');
    conn.release();
    const flushS = (performance.now() - f0) / 1000;
    const cpuLoad = meter().mariadbd;
    const o0 = performance.now();
    await db.pool.query(`OPTIMIZE TABLE ${v.table}`);
    const conn2 = await db.pool.getConnection();
    await conn2.query(`FLUSH TABLES ${v.table} FOR EXPORT`);
    await conn2.query('UNLOCK TABLES');
    conn2.release();
    const optimizeS = (performance.now() - o0) / 1000;
    await db.pool.query(`ANALYZE TABLE ${v.table}`);
    const [[t]] = (await db.pool.query(
      'SELECT TABLE_ROWS AS r, DATA_LENGTH AS d, INDEX_LENGTH AS i FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
      [v.table],
    )) as unknown as [[{ r: number; d: number; i: number }]];
    const ts = await tablespaceBytes(v.table);
    const files = await fileBytes(v.table);
    const disk = files?.blocks ?? ts.allocated;
    results[v.table] = {
      label: v.label,
      engines: v.engines,
      options: options[v.table],
      insert_s: insertS,
      insert_rows_per_s: ROWS / insertS,
      flush_s: flushS,
      mariadbd_cpu_s_per_1000_rows: cpuLoad === undefined ? null : (cpuLoad / ROWS) * 1000,
      optimize_s: optimizeS,
      data_length: Number(t.d),
      index_length: Number(t.i),
      tablespace_file_size: ts.file,
      tablespace_allocated: ts.allocated,
      ibd_files: files,
      disk_bytes: disk,
      bytes_per_message: disk / ROWS,
      page_compression_saved: Number((await status('Innodb_page_compression_saved')) ?? 0) - saved0,
    };
    log(`${v.label}: ${Math.round(ROWS / insertS)} rows/s, ${(disk / ROWS).toFixed(0)} bytes/message on disk`);
  }

  // Search: the product's search (one user's conversations, a time range, LIKE over content) and
  // a LIKE over every row (an operator's search), warm: median of RUNS after one run that warms.
  const [convRows] = await db.pool.query<RowDataPacket[]>('SELECT DISTINCT conversation FROM h_none WHERE sender_id = ? OR receiver_id = ?', [TARGET, TARGET]);
  const convs = convRows.map((r) => String(r.conversation));
  const searches: { label: string; sql: (t: string) => string; params: unknown[] }[] = [
    ...[
      ['user search, Latin word', 'deadline'],
      ['user search, CJK word', '开会'],
      ['user search, emoji', '🎉'],
      ['user search, no match', 'zebra'],
    ].map(([label, kw]) => ({
      label: label!,
      sql: (t: string) =>
        `SELECT message_id FROM ${t} WHERE conversation IN (?) AND created_at BETWEEN ? AND ? AND LOWER(content) COLLATE utf8mb4_bin LIKE CONCAT('%', LOWER(?), '%') COLLATE utf8mb4_bin ORDER BY created_at DESC, message_id DESC LIMIT 50`,
      params: [convs, 0, Number.MAX_SAFE_INTEGER, kw],
    })),
    { label: 'every row, LIKE a Latin word', sql: (t: string) => `SELECT COUNT(*) FROM ${t} WHERE content LIKE ?`, params: ['%quarterly%'] },
    { label: 'every row, LIKE a CJK word', sql: (t: string) => `SELECT COUNT(*) FROM ${t} WHERE content LIKE ?`, params: ['%服务器%'] },
  ];
  const searchResults: Record<string, Record<string, { median_ms: number; first_ms: number; found: number }>> = {};
  for (const s of searches) {
    searchResults[s.label] = {};
    for (const v of variants) {
      const times: number[] = [];
      let found = 0;
      for (let i = 0; i <= RUNS; i++) {
        const t = performance.now();
        const [r] = await db.pool.query<RowDataPacket[]>(s.sql(v.table), s.params);
        times.push(performance.now() - t);
        found = r.length === 1 && 'COUNT(*)' in r[0]! ? Number(r[0]!['COUNT(*)']) : r.length;
      }
      const first = times.shift()!;
      times.sort((a, b) => a - b);
      searchResults[s.label]![v.table] = { median_ms: times[Math.floor(times.length / 2)]!, first_ms: first, found };
      const expected = searchResults[s.label]!.h_none!.found;
      if (found !== expected) throw new Error(`${s.label}: ${v.label} found ${found}, the uncompressed table ${expected}`);
    }
  }

  const report = {
    started: { at: startedAt, loadavg: load0 },
    finished: new Date().toISOString(),
    command: `npm run bench -- storage${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), server: version },
    server: {
      innodb_page_size: await variable('innodb_page_size'),
      innodb_buffer_pool_size: await variable('innodb_buffer_pool_size'),
      innodb_compression_algorithm: await variable('innodb_compression_algorithm'),
      innodb_compression_level: await variable('innodb_compression_level'),
      innodb_have_punch_hole: await status('Innodb_have_punch_hole'),
      column_compression_threshold: await variable('column_compression_threshold'),
    },
    corpus: { rows: ROWS, content_bytes: contentBytes, content_bytes_per_message: contentBytes / ROWS, kinds: kindCounts, searching_user_conversations: convs.length },
    tables: results,
    search: searchResults,
  };
  const dir = join(ROOT, 'bench-out', startedAt.replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'storage.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(dir, 'storage.md'), markdown(report));
  log(`report: ${join('bench-out', dir.split('/bench-out/')[1]!, 'storage.md')}`);
  process.stdout.write(markdown(report));
} finally {
  await db.drop();
}

function markdown(r: any): string {
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-');
  const mib = (b: number) => `${f(b / 2 ** 20, 1)} MiB`;
  const tables = Object.entries(r.tables as Record<string, any>);
  const none = r.tables.h_none;
  const out = [
    '# message_history storage: compressed and not',
    '',
    `Server: ${r.machine.server} (page size ${r.server.innodb_page_size}, buffer pool ${mib(Number(r.server.innodb_buffer_pool_size))}, compression algorithm ${r.server.innodb_compression_algorithm} level ${r.server.innodb_compression_level}, punch hole ${r.server.innodb_have_punch_hole ?? 'n/a'}); ${r.machine.cpu}, ${r.machine.cores} cores.`,
    `Run from ${r.started.at} to ${r.finished}; load average at the start ${r.started.loadavg.join(', ')}. Command: \`${r.command}\`.`,
    '',
    `Corpus: ${f(r.corpus.rows)} messages, ${f(r.corpus.content_bytes_per_message)} content bytes per message on average (${Object.entries(r.corpus.kinds as Record<string, number>)
      .map(([k, n]) => `${k} ${f((n / r.corpus.rows) * 100, 0)} %`)
      .join(', ')}): short chat lines in Latin, CJK (with some Japanese and Korean) and emoji; long texts of 1-4 KB; image and file URLs with random names.`,
    'Each table is a copy of message_history (CREATE TABLE ... LIKE: same columns, keys and monthly partitions), loaded with the same rows, 500 per INSERT, one connection,',
    'then flushed (FLUSH TABLES ... FOR EXPORT), rebuilt (OPTIMIZE TABLE) and flushed again. On disk: allocated blocks of the .ibd files (information_schema\'s ALLOCATED_SIZE when the files are not visible).',
    '',
    '| storage | exists on | on disk | bytes per message | vs none | information_schema data + index | insert rows/s | mariadbd CPU s per 1,000 rows (insert + flush) | OPTIMIZE s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...tables.map(
      ([, t]) =>
        `| ${t.label} | ${t.engines} | ${mib(t.disk_bytes)} | ${f(t.bytes_per_message)} | ${f((t.disk_bytes / none.disk_bytes) * 100)} % | ${mib(t.data_length + t.index_length)} | ${f(t.insert_rows_per_s)} | ${t.mariadbd_cpu_s_per_1000_rows === null ? '-' : f(t.mariadbd_cpu_s_per_1000_rows, 3)} | ${f(t.optimize_s, 1)} |`,
    ),
    '',
    `Search, warm (the tables fit in the buffer pool): median of ${RUNS} runs in ms, after one first run (in brackets). The user search is the product's (one user's ${r.corpus.searching_user_conversations} conversations, all time, LIKE over content).`,
    '',
    `| query | found | ${tables.map(([, t]) => t.label).join(' | ')} |`,
    `|---|---|${tables.map(() => '---').join('|')}|`,
    ...Object.entries(r.search as Record<string, Record<string, any>>).map(
      ([label, byTable]) => `| ${label} | ${f(byTable.h_none.found)} | ${tables.map(([name]) => `${f(byTable[name].median_ms, 1)} (${f(byTable[name].first_ms, 1)})`).join(' | ')} |`,
    ),
    '',
  ];
  return out.join('\n');
}
