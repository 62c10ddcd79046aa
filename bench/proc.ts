// Process accounting for the benches, from /proc: CPU seconds and peak RSS of a process, and the
// process that listens on a local TCP port (the Redis or MariaDB a bench runs against, however it
// was started).
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';

export interface ProcStats {
  /** User + system CPU seconds of the whole process (every thread). */
  cpuS: number;
  /** Peak resident set size (VmHWM), bytes. */
  peakRss: number;
}

export function procStats(pid: number): ProcStats {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / 100;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS, peakRss: hwm ? Number(hwm[1]) * 1024 : 0 };
  } catch {
    return { cpuS: 0, peakRss: 0 };
  }
}

/**
 * Peak RSS of each process over a stretch of time: resets the kernel's high-water mark (VmHWM, through
 * /proc/PID/clear_refs) now; call the result to read each process's peak since.
 */
export function peakRssMeter(pids: Record<string, number>): () => Record<string, number> {
  for (const pid of Object.values(pids)) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // Not ours to reset (another user's process): the peak then covers the process's whole life.
    }
  }
  return () => Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, procStats(p).peakRss]));
}

/** CPU seconds of a set of processes, as a function that reads them again: call it to get the seconds spent since. */
export function cpuMeter(pids: Record<string, number>): () => Record<string, number> {
  const start = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, procStats(p).cpuS]));
  return () => Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, procStats(p).cpuS - start[k]!]));
}

/** The pid of the process listening on 127.0.0.1/0.0.0.0/::1 `port`, when it runs on this machine and /proc shows it. */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A: LISTEN
      if (parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(entry);
      } catch {
        /* gone meanwhile */
      }
    }
  }
  return undefined;
}

/** The port of a redis:// or mysql:// URL, or a host:port address. */
export function portOf(address: string): number {
  if (address.includes('://')) {
    const u = new URL(address);
    return Number(u.port || (u.protocol.startsWith('mysql') ? 3306 : 6379));
  }
  return Number(address.split(':').at(-1));
}
