import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pushWindows } from '@im/redis';
import { randomUserBase, testRedis, uniqueName } from '../support/env';

describe('push collapse windows in Redis (push-windows.ts, real Redis)', () => {
  const redis = testRedis();
  const windows = pushWindows(redis, `{${uniqueName('imt')}}`);
  const user = String(randomUserBase() + 1n);
  const d = { user_id: user, device_id: 'default' };
  after(() => redis.quit());

  it('gathers messages once each into the open window and keeps the newest by id, not by arrival', async () => {
    assert.equal(await windows.add(d, '1002', 'b2', '100'), '100');
    assert.equal(await windows.add(d, '1001', 'b1', '200'), '100', 'joins the open window');
    assert.equal(await windows.add(d, '1002', 'b2', '300'), '100');
    assert.equal(await windows.add(d, '999', 'b0', '300'), '100');
    assert.deepEqual(await windows.take(d, '100'), { count: 3, newest: 'b2' });
  });

  it('a closed window is returned again until sent; a message after it opens the next; a stale close finds nothing', async () => {
    assert.deepEqual(await windows.take(d, '100'), { count: 3, newest: 'b2' }, 'a retried send sees the same window');
    assert.equal(await windows.add(d, '1003', 'b3', '400'), '400', 'the first message after the close opens a new window');
    await windows.sent(d, '100');
    assert.equal(await windows.take(d, '100'), null, 'sent: nothing more for that window');
    assert.equal(await windows.take(d, '399'), null, 'a close naming another window takes nothing');
    assert.deepEqual(await windows.take(d, '400'), { count: 1, newest: 'b3' });
    await windows.sent(d, '400');
    assert.equal(await windows.take(d, '400'), null);
  });

  it('keeps devices apart', async () => {
    const other = { user_id: user, device_id: 'tablet' };
    assert.equal(await windows.add(d, '2001', 'x', '500'), '500');
    assert.equal(await windows.add(other, '2001', 'x', '501'), '501');
    assert.deepEqual(await windows.take(other, '501'), { count: 1, newest: 'x' });
    assert.deepEqual(await windows.take(d, '500'), { count: 1, newest: 'x' });
  });
});
