// Runs bench/stream-load.ts (streamed single sends over gRPC SendStream) in a process of its own
// and resolves with its figures, in the shape of wrk's (bench/wrk.ts), so the fleet bench measures
// a streamed phase exactly as it measures a POST phase.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { WrkOptions, WrkResult } from './wrk';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface StreamOptions extends Omit<WrkOptions, 'url' | 'connections' | 'threads' | 'dump'> {
  /** host:port of ingest's gRPC server. */
  target: string;
  streams: number;
  /** Closed loop: frames each stream keeps unanswered. */
  window: number;
}

export async function runStream(o: StreamOptions): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'im-bench-stream-'));
  try {
    writeFileSync(join(dir, 'senders'), o.senders.join('\n') + '\n');
    writeFileSync(join(dir, 'receivers'), o.receivers.join('\n') + '\n');
    const config = {
      target: o.target,
      total: o.total,
      streams: o.streams,
      window: o.window,
      rate: o.rate ?? 0,
      senders: join(dir, 'senders'),
      receivers: join(dir, 'receivers'),
      prefix: o.prefix,
      token: o.token,
      proto: join(ROOT, 'proto/im_message.proto'),
    };
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/stream-load.ts')], {
      cwd: ROOT,
      env: { ...process.env, STREAM_LOAD: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    o.onStart?.(child.pid!);
    const stderr: string[] = [];
    child.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let result: Omit<WrkResult, 'complete' | 'sent'> | undefined;
    const deadline = setTimeout(() => child.kill('SIGTERM'), o.deadlineMs ?? Math.max(120_000, (o.total / Math.max(1, o.rate ?? 200)) * 3000));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('STREAM_PROGRESS ')) o.onProgress?.(Number(line.split(' ')[1]));
      else if (line.startsWith('STREAM_RESULT ')) result = JSON.parse(line.slice('STREAM_RESULT '.length));
    });
    const code = await exited;
    clearTimeout(deadline);
    if (code !== 0 || !result) throw new Error(`the stream load generator exited with ${code}${result ? '' : ' and no result'}: ${stderr.join('').trim().slice(-800)}`);
    return { ...result, sent: o.total, complete: result.answered === o.total };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
