import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file the repository ships (migrations, the proto file, the OpenAPI document), found by looking
 * upward from this module: works from the sources and from a role's bundle in dist/.
 */
export function findUp(relative: string, from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, relative))) return join(dir, relative);
    if (dirname(dir) === dir) throw new Error(`cannot find ${relative} above ${from}`);
  }
}
