import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TicketSequencer } from './sequencer';

const job = (ticket: number | undefined, name = `t${ticket}`) => ({ item: name, ticket });
const never = async () => false;

describe('TicketSequencer (unit)', () => {
  it('hands jobs on in ticket order whatever order they came in', async () => {
    const s = new TicketSequencer<string>(1000);
    s.resume(1);
    s.add([job(3), job(1), job(2)]);
    assert.deepEqual(await s.take(never), { ready: ['t1', 't2', 't3'], last: 3, skipped: 0, late: [] });
  });

  it('holds a job whose earlier ticket has not come, and hands both on once it does', async () => {
    const s = new TicketSequencer<string>(1000);
    s.resume(5);
    s.add([job(6)]);
    assert.deepEqual((await s.take(never)).ready, []);
    assert.deepEqual(s.held, ['t6']);
    s.add([job(5)]);
    assert.deepEqual((await s.take(never)).ready, ['t5', 't6']);
  });

  it('skips a ticket that was voided at once', async () => {
    const s = new TicketSequencer<string>(60_000);
    s.resume(1);
    s.add([job(2)]);
    const r = await s.take(async (t) => t === 1);
    assert.deepEqual(r, { ready: ['t2'], last: 2, skipped: 1, late: [] });
  });

  it('gives up on a missing ticket after the gap wait, not before', async () => {
    let now = 0;
    const s = new TicketSequencer<string>(3000, () => now);
    s.resume(1);
    s.add([job(3)]);
    assert.deepEqual((await s.take(never)).ready, []);
    now = 2999;
    assert.deepEqual((await s.take(never)).ready, []);
    now = 3000;
    assert.deepEqual(await s.take(never), { ready: ['t3'], last: 3, skipped: 2, late: [] });
  });

  it('hands on at once a job that comes after its turn was passed, and one without a ticket', async () => {
    const s = new TicketSequencer<string>(1000);
    s.resume(10);
    const now = s.add([job(undefined, 'plain'), job(4, 'late')]);
    assert.deepEqual(now, ['plain']);
    const turn = await s.take(never);
    assert.deepEqual(turn.ready, ['late']);
    assert.deepEqual(turn.late, [4], 'reported as out of ticket order');
  });

  it('starts from the lowest ticket it sees when it knows none handed on', async () => {
    const s = new TicketSequencer<string>(1000);
    s.resume(undefined);
    s.add([job(42), job(41)]);
    assert.deepEqual((await s.take(never)).ready, ['t41', 't42']);
  });

  it('gives every held job back when released', async () => {
    const s = new TicketSequencer<string>(1000);
    s.resume(1);
    s.add([job(3), job(4)]);
    await s.take(never);
    assert.deepEqual(s.release(), ['t3', 't4']);
    assert.deepEqual(s.held, []);
  });
});
