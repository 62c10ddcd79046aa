import { after } from 'node:test';
import { createTestDatabase, type TestDatabase } from './db';
import { Fleet, type FleetRole } from './fleet';

export interface SuiteFleet {
  db: TestDatabase;
  fleet: Fleet;
  /** Stops the fleet and drops the database; nothing while the file shares them (the file's end does). */
  close(): Promise<void>;
}

/** Fleets of the file, by their settings, while suites share them (shareFleets). */
let shared: Map<string, Promise<{ db: TestDatabase; fleet: Fleet }>> | undefined;

/**
 * Lets the suites this file runs share fleets: a suite asking for the same settings as one before
 * it gets the same processes and database (with any role it adds started), instead of starting
 * its own. They are stopped, and the database dropped, after the file's last test. Starting a
 * fleet and its database costs 3-4 s of CPU, more than the tests of a light suite (recall's take
 * half a second); the cluster runs (test/cluster) run several suites on one fleet to save it.
 * Suites that share keep to their own users, groups and messages, and count rows of those only.
 */
export function shareFleets(): void {
  if (shared) return;
  const fleets = new Map<string, Promise<{ db: TestDatabase; fleet: Fleet }>>();
  shared = fleets;
  after(async () => {
    for (const started of fleets.values()) {
      const up = await started.catch(() => undefined); // one that failed to start cleaned up after itself
      await up?.fleet.stop();
      await up?.db.drop();
    }
  });
}

/**
 * A suite's fleet of `roles` with `env`, on a fresh database: started for the suite, or, in a file
 * that shares fleets, the one started for an earlier suite with the same settings (a role that
 * suite killed and left down is started again).
 */
export async function suiteFleet(roles: readonly FleetRole[], env: Record<string, string> = {}): Promise<SuiteFleet> {
  if (!shared) {
    const { db, fleet } = await start(roles, env);
    return {
      db,
      fleet,
      close: async () => {
        await fleet.stop();
        await db.drop();
      },
    };
  }
  const key = JSON.stringify(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));
  let started = shared.get(key);
  if (!started) {
    started = start(roles, env);
    shared.set(key, started);
  }
  const { db, fleet } = await started;
  const down = roles.filter((r) => {
    const p = fleet.procs.get(r);
    return !p || p.child.exitCode !== null || p.child.signalCode !== null;
  });
  await fleet.startAll(down);
  return { db, fleet, close: async () => {} };
}

/** A database and a fleet on it; neither is left behind when the fleet does not come up. */
async function start(roles: readonly FleetRole[], env: Record<string, string>): Promise<{ db: TestDatabase; fleet: Fleet }> {
  const db = await createTestDatabase();
  const fleet = new Fleet(db.url, env);
  try {
    return { db, fleet: await fleet.startAll(roles) };
  } catch (err) {
    await fleet.stop();
    await db.drop();
    throw err;
  }
}
