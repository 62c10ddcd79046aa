// The bench's load generator for streamed single sends (gRPC MessageStream.SendStream), a process
// of its own like wrk for POST: `total` sends over `streams` streams, each frame its own
// client_msg_id and sender/receiver pair (the pairs wrk's script picks), either as fast as the
// answers come back (each stream keeps `window` frames unanswered) or at a constant rate (frames
// written when due, whatever is unanswered). Each frame's content carries a=<µs written> (and with
// a rate s=<µs due>) on CLOCK_MONOTONIC, so the bench's subscriber measures send to PUBLISH.
// Configured by the environment variable STREAM_LOAD (JSON, bench/stream.ts writes it); prints
// "STREAM_PROGRESS <answered>" lines and one "STREAM_RESULT <json>" (wrk's result's shape).
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

interface Config {
  target: string;
  total: number;
  streams: number;
  window: number;
  rate: number;
  senders: string;
  receivers: string;
  prefix: string;
  token: string;
  proto: string;
}
interface Answer {
  correlation_id: string;
  result: { code: number };
  error_code: string;
}

const cfg = JSON.parse(process.env.STREAM_LOAD ?? '{}') as Config;
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);
const senders = lines(cfg.senders);
const receivers = lines(cfg.receivers);
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(cfg.proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })) as any;
const client = new pkg.mpim.MessageStream(cfg.target, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 2 ** 20 });
const metadata = new grpc.Metadata();
metadata.set('authorization', `Bearer ${cfg.token}`);

/** The frame of send n: the sender and receiver wrk's script would pick for request n. */
function frame(n: number, writtenUs: number, dueUs?: number) {
  const ns = senders.length;
  const nr = receivers.length;
  const si = n % ns;
  const ri = (si + 1 + Math.floor(n / ns)) % nr;
  const sender = senders[si]!;
  let receiver = receivers[ri]!;
  if (receiver === sender) receiver = receivers[(ri + 1) % nr]!;
  const content = dueUs === undefined ? `bench ${n} 你好 🚀 a=${writtenUs}` : `lat ${n} s=${Math.floor(dueUs)} a=${writtenUs}`;
  return { correlation_id: String(n), sender_id: sender, receiver_id: receiver, content, client_msg_id: `${cfg.prefix}${n}` };
}

const writtenAt = new Float64Array(cfg.total);
const latencies = new Float64Array(cfg.total);
let next = 0;
let answered = 0;
let accepted = 0;
const other: Record<string, number> = {};
let firstUs = 0;
let lastUs = 0;
let cpu0: NodeJS.CpuUsage | undefined;
let done!: () => void;
const allAnswered = new Promise<void>((resolve) => (done = resolve));

interface Link {
  call: grpc.ClientDuplexStream<unknown, { results: Answer[] }>;
  unanswered: number;
  ended: Promise<void>;
}

function write(link: Link, dueUs?: number): void {
  const n = next++;
  const t = nowUs();
  if (firstUs === 0) firstUs = t;
  writtenAt[n] = t;
  link.unanswered++;
  link.call.write(frame(n, t, dueUs));
}

const links: Link[] = Array.from({ length: cfg.streams }, () => {
  const call = client.SendStream(metadata) as Link['call'];
  const link: Link = {
    call,
    unanswered: 0,
    ended: new Promise<void>((resolve, reject) => {
      call.on('status', (s: grpc.StatusObject) => (s.code === grpc.status.OK ? resolve() : reject(new Error(`stream ended with ${grpc.status[s.code]}: ${s.details}`))));
      call.on('error', () => {});
    }),
  };
  call.on('data', (m: { results: Answer[] }) => {
    const t = nowUs();
    for (const r of m.results) {
      const n = Number(r.correlation_id);
      latencies[answered++] = t - writtenAt[n]!;
      if (r.result.code === 0) accepted++;
      else other[r.error_code] = (other[r.error_code] ?? 0) + 1;
      if (answered % 5000 === 0) process.stdout.write(`STREAM_PROGRESS ${answered}\n`);
    }
    link.unanswered -= m.results.length;
    if (cfg.rate <= 0) while (link.unanswered < cfg.window && next < cfg.total) write(link);
    if (answered >= cfg.total) {
      lastUs = t;
      done();
    }
  });
  return link;
});

// Let the streams open before the clock starts.
await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (err: Error | undefined) => (err ? reject(err) : resolve())));
cpu0 = process.cpuUsage();
if (cfg.rate > 0) {
  const start = nowUs();
  const intervalUs = 1e6 / cfg.rate;
  let turn = 0;
  const tick = () => {
    const due = Math.min(cfg.total, Math.floor((nowUs() - start) / intervalUs) + 1);
    while (next < due) {
      write(links[turn++ % links.length]!, start + next * intervalUs);
    }
    if (next < cfg.total) setTimeout(tick, 1);
  };
  tick();
} else {
  for (const link of links) while (link.unanswered < cfg.window && next < cfg.total) write(link);
}
await allAnswered;
const cpu = process.cpuUsage(cpu0);
for (const link of links) link.call.end();
await Promise.all(links.map((l) => l.ended));
client.close();

const sorted = latencies.slice(0, answered).sort();
const at = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0);
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
const result = {
  answered,
  accepted,
  other_statuses: other,
  errors: { connect: 0, read: 0, write: 0, timeout: 0, status: 0 },
  first_us: firstUs,
  last_us: lastUs,
  latency_us: { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: Math.round(sorted[sorted.length - 1] ?? 0), mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length) },
  cpu_s: (cpu.user + cpu.system) / 1e6,
  peak_rss: hwm ? Number(hwm[1]) * 1024 : 0,
};
process.stdout.write(`STREAM_RESULT ${JSON.stringify(result)}\n`);
