import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait';

/** The local test stack's servers (infra/stack/up.sh test), for tests that stop and restart them. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STACK = join(ROOT, '.stack/test');

/** The pid of a server of the local test stack, or undefined when the tests use servers of their own. */
export function stackPid(file: 'redis.pid' | 'mysql.pid'): number | undefined {
  const path = join(STACK, file);
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, 'utf8').trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** True when the tests run on the local test stack (servers from REDIS_URL/MYSQL_URL are never restarted). */
export const localStack = (): boolean => stackPid('redis.pid') !== undefined && stackPid('mysql.pid') !== undefined;

export async function stopPid(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  await waitFor(
    `pid ${pid} to exit`,
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    60_000,
  );
}

/** Starts whatever of the test stack is not running (and waits until it answers). */
export function stackUp(): void {
  const r = spawnSync('bash', [join(ROOT, 'infra/stack/up.sh'), 'test'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, REDIS_URL: '', MYSQL_URL: '' } });
  assert.equal(r.status, 0, r.stderr);
}

export async function stopMysql(): Promise<void> {
  const pid = stackPid('mysql.pid');
  assert.ok(pid, 'the test stack runs MariaDB');
  await stopPid(pid);
}
