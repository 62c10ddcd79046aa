import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TracerProvider } from '@opentelemetry/api';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';

const requireHere = createRequire(import.meta.url);

type Instrumentation = Pick<IORedisInstrumentation, 'getModuleDefinitions' | 'setTracerProvider'>;

/** The directory and version of an installed package (its package.json, found through its main entry: mysql2's exports hide the file). */
function installed(name: string): { dir: string; version: string } {
  let dir = dirname(requireHere.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return { dir, version: pkg.version ?? '0.0.0' };
    } catch {
      // not this directory
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the package.json of ${name}`);
    dir = up;
  }
}

/**
 * Applies an official instrumentation's patches to the driver modules this process uses, now.
 *
 * Why not `registerInstrumentations`: the instrumentations patch a module as it is loaded,
 * through require-in-the-middle (CommonJS) or an import-in-the-middle loader hook (ESM). Our
 * processes are ESM bundles whose static imports of ioredis and mysql2 are resolved before the
 * first line of main runs, so telemetry, however early, starts after the drivers are loaded, and
 * only a loader registered with --import would see them. The patches themselves only wrap
 * prototype methods (ioredis `Redis.prototype.sendCommand`, mysql2 `Connection.prototype.query`
 * and `execute`), and CommonJS keeps one instance of each module, the one our ESM imports got:
 * requiring the same files here and applying each definition's patch instruments exactly the
 * objects the process uses, with the instrumentation's own code and semantic conventions.
 */
function applyTo(instrumentation: Instrumentation, root: string, version: string): void {
  for (const def of instrumentation.getModuleDefinitions()) {
    if (def.patch) def.moduleExports = def.patch(requireHere(def.name), version);
    for (const file of def.files) {
      // File names are package-relative ("mysql2/lib/connection.js"): loaded by path, the same module as the package's own require.
      const path = join(root, file.name.split('/').slice(1).join('/'));
      file.moduleExports = file.patch(requireHere(path), version);
    }
  }
}

/**
 * The MySQL and Redis spans: a CLIENT span per query and per command, the child of the active
 * span (a round, a request, a message's hop). Commands with no active span are not traced (ioredis
 * requireParentSpan; the sampler drops parentless CLIENT spans, start.ts), so the background loops
 * (health checks, gauges, blocking fetches) add nothing. Statements are recorded without values
 * and Redis commands by name only: messages' content never reaches a span.
 */
export function instrumentDrivers(provider: TracerProvider): void {
  const redis = new IORedisInstrumentation({ enabled: false, requireParentSpan: true, dbStatementSerializer: (name) => name });
  const mysql = new MySQL2Instrumentation({ enabled: false, maskStatement: true });
  for (const [instrumentation, name] of [
    [redis, 'ioredis'],
    [mysql, 'mysql2'],
  ] as const) {
    instrumentation.setTracerProvider(provider);
    const { dir, version } = installed(name);
    applyTo(instrumentation, dir, version);
  }
}
