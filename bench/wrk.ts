// The bench's HTTP load generator for single sends: wrk (C, its own process, one event loop per
// thread) with bench/wrk/send.lua, so the generator costs little CPU and none of the bench's own.
// A run sends exactly `total` messages, each with its own client_msg_id and sender/receiver pair,
// as fast as the server answers or at a constant rate, then reports wrk's latency distribution
// (POST to answer), the answers by status, and wrk's own CPU seconds and peak RSS (read from
// /proc/self by the script when the run ends).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./wrk/send.lua', import.meta.url));

/** The path of wrk, or undefined when it is not installed. */
export function wrkPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

/**
 * Installs Debian's wrk with apt-get when it is missing (as root with apt-get, the way the local
 * stack installs redis-server), and returns its path; otherwise undefined and why.
 */
export function ensureWrk(say: (m: string) => void): { path?: string; why?: string } {
  const found = wrkPath();
  if (found) return { path: found };
  if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) {
    return { why: 'wrk is not installed and cannot be installed here (needs root and apt-get): install it (Debian: apt-get install wrk)' };
  }
  say('installing wrk with apt-get (first run only)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'wrk'], { env, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-q'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (!install()) return { why: 'apt-get install wrk failed' };
  }
  const path = wrkPath();
  return path ? { path } : { why: 'wrk is still not on PATH after apt-get install wrk' };
}

export interface WrkOptions {
  /** Base URL of the API (http://host:port); the script posts to /v1/messages. */
  url: string;
  total: number;
  connections: number;
  threads?: number;
  /** Sends per second for the whole run; 0 or absent: as fast as the server answers. */
  rate?: number;
  senders: readonly string[];
  receivers: readonly string[];
  /** client_msg_id prefix: message n carries `${prefix}${n}`. */
  prefix: string;
  token: string;
  /** A file prefix that receives every body sent (one file per thread, `.0`, `.1`, ...). */
  dump?: string;
  /** Give up (stop wrk, report what was answered) when the run takes longer than this. */
  deadlineMs?: number;
  onProgress?: (answered: number) => void;
  /** Called with wrk's pid once it runs (for sampling /proc while it works). */
  onStart?: (pid: number) => void;
}

export interface WrkResult {
  sent: number;
  answered: number;
  accepted: number;
  other_statuses: Record<string, number>;
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
  /** CLOCK_MONOTONIC µs (process.hrtime's clock) of the first request written and the last answer read. */
  first_us: number;
  last_us: number;
  /** wrk's distribution of POST to answer, in µs (with wrk's own correction for coordinated omission). */
  latency_us: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  cpu_s: number;
  peak_rss: number;
  /** False when the deadline stopped the run before every send was answered. */
  complete: boolean;
}

/** Runs wrk once for `total` single sends and resolves with its figures. */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const wrk = wrkPath();
  if (!wrk) throw new Error('wrk is not installed');
  const threads = Math.max(1, Math.min(o.threads ?? 1, o.connections, o.total));
  const dir = mkdtempSync(join(tmpdir(), 'im-bench-wrk-'));
  try {
    writeFileSync(join(dir, 'senders'), o.senders.join('\n') + '\n');
    writeFileSync(join(dir, 'receivers'), o.receivers.join('\n') + '\n');
    const child = spawn(wrk, ['-t', String(threads), '-c', String(o.connections), '-d', '86400s', '--timeout', '30s', '-s', SCRIPT, o.url], {
      env: {
        ...process.env,
        WRK_TOTAL: String(o.total),
        WRK_THREADS: String(threads),
        WRK_RATE: String(o.rate ?? 0),
        WRK_SENDERS: join(dir, 'senders'),
        WRK_RECEIVERS: join(dir, 'receivers'),
        WRK_PREFIX: o.prefix,
        WRK_TOKEN: o.token,
        WRK_DUMP: o.dump ?? '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    o.onStart?.(child.pid!);
    const stderr: string[] = [];
    child.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const progress = new Map<string, number>();
    const doneThreads = new Set<string>();
    let result: Omit<WrkResult, 'complete' | 'sent'> | undefined;
    let stopped = false;
    // wrk's main thread sleeps for its whole -d; when every thread has stopped, SIGINT wakes it
    // to print its summary and run done().
    const stop = () => {
      if (!stopped) {
        stopped = true;
        child.kill('SIGINT');
      }
    };
    const deadline = setTimeout(stop, o.deadlineMs ?? Math.max(120_000, (o.total / Math.max(1, o.rate ?? 200)) * 3000));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [tag, a, b] = line.split(' ');
      if (tag === 'WRK_PROGRESS') {
        progress.set(a!, Number(b));
        o.onProgress?.([...progress.values()].reduce((x, y) => x + y, 0));
      } else if (tag === 'WRK_THREAD_DONE') {
        doneThreads.add(a!);
        if (doneThreads.size === threads) stop();
      } else if (tag === 'WRK_RESULT') {
        result = JSON.parse(line.slice('WRK_RESULT '.length));
      }
    });
    const code = await exited;
    clearTimeout(deadline);
    if (code !== 0 || !result) throw new Error(`wrk exited with ${code}${result ? '' : ' and no result'}: ${stderr.join('').trim().slice(-500)}`);
    return { ...result, sent: o.total, complete: doneThreads.size === threads };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
