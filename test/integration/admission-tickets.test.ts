import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admissionLedger, type AdmissionInput } from '../../apps/ingest-api/src/send/admission';
import { closeRedis, topology, type Redis } from '@im/redis';
import { testRedis, uniqueName } from '../support/env';

/**
 * queue.ordered hands persist jobs on in ticket order, and that is seq order per conversation only
 * if, for any two jobs, the one with the lower ticket holds the lower seqs. A batch whose
 * conversations need their counters checked against MySQL is admitted over several calls (the
 * check between them) while other ingest processes admit too: here two batches interleave as two
 * processes' batches do, against the real admission script on a real Redis.
 */
describe('admission tickets follow seqs when a batch needs its counters checked', () => {
  let redis: Redis;
  const shard = topology({ prefix: `{${uniqueName('imt')}}`, shards: 1 }).shard(0);
  let n = 0;
  const input = (conversation: string): AdmissionInput => ({ conversation, sender_id: '1', client_msg_id: null, message_id: String(9_000_000 + ++n), created_at: Date.now() });

  before(async () => {
    redis = testRedis();
    await redis.set(shard.keys.generation, '1');
  });
  after(async () => {
    if (redis) await closeRedis(redis);
  });

  it('admits a call whole or not at all, so each job ticket is behind every seq it carries and ahead of none it does not', async () => {
    const ledger = admissionLedger(redis, 0, () => 1, true);
    const [c, d] = [`s:${uniqueName('c')}`, `s:${uniqueName('d')}`];
    // C is in use (its counter checked); D is new.
    await ledger.admit(shard, [input(c)], 'b0', new Map([[c, 0]]));
    const warm = await ledger.admit(shard, [input(c)], 'b1', new Map());
    assert.deepEqual(warm.results.map((r) => r.status), ['ok']);

    /** What send.service does with a batch: admit, check the counters asked for, admit the rest; the job takes the last ticket issued. */
    const jobs: { ticket: number; seqs: [string, number][] }[] = [];
    async function batch(items: AdmissionInput[], between?: () => Promise<void>) {
      let todo = items;
      let ticket: number | undefined;
      const seqs: [string, number][] = [];
      let seeds = new Map<string, number>();
      for (let round = 0; round < 3 && todo.length > 0; round++) {
        const r = await ledger.admit(shard, todo, `b${todo[0]!.message_id}`, seeds);
        if (r.ticket !== undefined) ticket = r.ticket;
        const again: AdmissionInput[] = [];
        r.results.forEach((res, k) => {
          if (res.status === 'ok') seqs.push([todo[k]!.conversation, res.seq]);
          else again.push(todo[k]!);
        });
        todo = again;
        seeds = new Map(todo.map((m) => [m.conversation, 0]));
        if (round === 0) await between?.();
      }
      assert.equal(todo.length, 0);
      jobs.push({ ticket: ticket!, seqs });
    }

    // Process two's batch (C and the new D) is checking D against MySQL while process one admits C.
    await batch([input(c), input(d)], () => batch([input(c)]));

    const byTicket = [...jobs].sort((a, b) => a.ticket - b.ticket);
    const handedOn = byTicket.flatMap((j) => j.seqs.filter(([conv]) => conv === c).map(([, seq]) => seq));
    assert.deepEqual(handedOn, [...handedOn].sort((a, b) => a - b), `C handed on in ticket order: seqs ${handedOn.join(', ')}`);
    assert.equal(new Set(jobs.map((j) => j.ticket)).size, jobs.length, 'one ticket per job');
  });
});
