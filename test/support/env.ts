import { randomBytes } from 'node:crypto';

/** The servers `npm test` started (or that REDIS_URL / MYSQL_URL name). */
export function testServers(): { redisUrl: string; mysqlUrl: string } {
  const redisUrl = process.env.REDIS_URL;
  const mysqlUrl = process.env.MYSQL_URL;
  if (!redisUrl || !mysqlUrl) throw new Error('REDIS_URL and MYSQL_URL are not set: run the tests through `npm test`');
  return { redisUrl, mysqlUrl };
}

export const TEST_TOKEN = 'test-token-0123456789abcdef';

/** A random id prefix so that tests sharing one Redis never see each other's users or channels. */
export function randomUserBase(): bigint {
  // Above 2^53 on purpose: every test exercises ids that a JS number cannot hold.
  return (1n << 53n) + BigInt(randomBytes(5).readUIntBE(0, 5)) * 1000n;
}

export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}
