// Summaries of the CPU profiles that `npm run bench -- --cpu-prof` has every role write (node
// --cpu-prof): where each role's CPU went during the measured phases, by package or source file
// (positions in a role's bundle are mapped back through its source map) and by function.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface Profile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

// ---- source maps (version 3): generated position -> source file and line ----------------------
const B64 = Object.fromEntries([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].map((c, i) => [c, i]));
type Segment = [genCol: number, source: number, line: number];
class SourceMap {
  private readonly lines: Segment[][] = [];
  constructor(readonly sources: string[], mappings: string) {
    let source = 0;
    let line = 0;
    let col = 0;
    for (const text of mappings.split(';')) {
      const segs: Segment[] = [];
      let genCol = 0;
      for (const seg of text.split(',')) {
        if (!seg) continue;
        const v: number[] = [];
        let shift = 0;
        let value = 0;
        for (const ch of seg) {
          const digit = B64[ch]!;
          value += (digit & 31) << shift;
          if (digit & 32) shift += 5;
          else {
            v.push(value & 1 ? -(value >>> 1) : value >>> 1);
            value = 0;
            shift = 0;
          }
        }
        genCol += v[0]!;
        if (v.length >= 4) {
          source += v[1]!;
          line += v[2]!;
          col += v[3]!;
          segs.push([genCol, source, line]);
        }
      }
      this.lines.push(segs);
    }
  }
  /** The source file and line (1-based) of a 0-based generated position. */
  lookup(line: number, column: number): { source: string; line: number } | undefined {
    const segs = this.lines[line];
    if (!segs || segs.length === 0) return undefined;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]![0] <= column) lo = mid;
      else hi = mid - 1;
    }
    const s = segs[lo]!;
    return { source: this.sources[s[1]]!, line: s[2] + 1 };
  }
}
const maps = new Map<string, SourceMap | null>();
function sourceMapOf(path: string): SourceMap | null {
  if (!maps.has(path)) {
    try {
      const m = JSON.parse(readFileSync(`${path}.map`, 'utf8')) as { sources: string[]; mappings: string };
      maps.set(path, new SourceMap(m.sources, m.mappings));
    } catch {
      maps.set(path, null);
    }
  }
  return maps.get(path)!;
}

/** Where a frame's code lives: a package of node_modules, a workspace package or app, Node's core, or V8. */
function place(frame: CallFrame, root: string): { category: string; where: string } {
  const url = frame.url;
  if (!url) return { category: frame.functionName.startsWith('(') ? frame.functionName : 'V8 and native code', where: '' };
  if (url.startsWith('node:')) return { category: 'Node.js core', where: url };
  const path = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (nm) return { category: nm[1]!, where: `${nm[1]}/${path.split(`node_modules/${nm[1]}/`)[1]}:${frame.lineNumber + 1}` };
  if (path.endsWith('/dist/main.js')) {
    const hit = sourceMapOf(path)?.lookup(frame.lineNumber, frame.columnNumber);
    if (hit) {
      const abs = join(path, '..', hit.source);
      const rel = relative(root, abs);
      const nm2 = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(rel);
      if (nm2) return { category: nm2[1]!, where: `${rel}:${hit.line}` };
      const ws = /^(packages|apps)\/([^/]+)\//.exec(rel);
      return { category: ws ? `${ws[1]}/${ws[2]}` : rel, where: `${rel}:${hit.line}` };
    }
  }
  return { category: relative(root, path), where: `${relative(root, path)}:${frame.lineNumber + 1}` };
}

export interface RoleProfile {
  role: string;
  /** CPU milliseconds sampled within the window (idle excluded). */
  busyMs: number;
  categories: [string, number][];
  functions: [string, string, number][];
}

/**
 * Reads the profiles in `dir`, each named after its process id (node's CPU.<date>.<pid>...), keeps
 * the samples taken between fromUs and toUs (the monotonic clock of process.hrtime, which V8's
 * profile timestamps use on Linux), and sums self time by category and by function.
 */
export function summarizeProfiles(dir: string, pids: Record<string, number>, fromUs: number, toUs: number, root: string): RoleProfile[] {
  const byPid = new Map(Object.entries(pids).map(([role, pid]) => [pid, role]));
  const out: RoleProfile[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const pid = Number(file.split('.')[3]);
    const role = byPid.get(pid);
    if (!role) continue;
    const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
    const nodes = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
    const self = new Map<number, number>();
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i]!;
      const dt = p.timeDeltas[i + 1] ?? 0;
      if (t < fromUs || t > toUs) continue;
      self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
    }
    const categories = new Map<string, number>();
    const functions = new Map<string, [string, string, number]>();
    let busy = 0;
    for (const [id, us] of self) {
      const frame = nodes.get(id)!;
      if (frame.functionName === '(idle)') continue;
      busy += us;
      const { category, where } = place(frame, root);
      categories.set(category, (categories.get(category) ?? 0) + us);
      const key = `${frame.functionName || '(anonymous)'}@${where}`;
      const f = functions.get(key) ?? [frame.functionName || '(anonymous)', where, 0];
      f[2] += us;
      functions.set(key, f);
    }
    out.push({
      role,
      busyMs: busy / 1000,
      categories: [...categories].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / 1000]),
      functions: [...functions.values()].sort((a, b) => b[2] - a[2]).map(([n, w, v]) => [n, w, v / 1000]),
    });
  }
  return out.sort((a, b) => b.busyMs - a.busyMs);
}

export function profileMarkdown(profiles: RoleProfile[], window: string): string {
  const f = (x: number, d = 0) => x.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });
  const out = ['# CPU profiles of the roles', '', `Self time of the samples taken ${window}; idle time left out. Bundled code is mapped back to its sources.`, ''];
  for (const p of profiles) {
    out.push(`## ${p.role}: ${f(p.busyMs)} ms of CPU sampled`, '', '| where | ms | share |', '|---|---|---|');
    for (const [k, v] of p.categories.slice(0, 12)) out.push(`| ${k} | ${f(v)} | ${f((v / p.busyMs) * 100, 1)} % |`);
    out.push('', '| function | at | ms | share |', '|---|---|---|---|');
    for (const [n, w, v] of p.functions.slice(0, 20)) out.push(`| ${n.replace(/\|/g, '\\|')} | ${w} | ${f(v)} | ${f((v / p.busyMs) * 100, 1)} % |`);
    out.push('');
  }
  return out.join('\n');
}
