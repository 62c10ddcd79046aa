import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from './index';

/** The exposition text's samples of one metric, as "labels value" lines. */
async function samples(role: string, name: string): Promise<string[]> {
  const text = await createMetrics(role).registry.metrics();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`));
}

describe('metrics: labelled counters exist at 0 before anything happens', () => {
  it('ingest-api: every kind and result of im_messages_ingested_total, acks, and server errors', async () => {
    const ingested = await samples('ingest-api', 'im_messages_ingested_total');
    assert.equal(ingested.length, 6);
    assert.ok(ingested.every((l) => l.endsWith(' 0')));
    assert.ok(ingested.includes('im_messages_ingested_total{kind="group",result="duplicate",role="ingest-api"} 0'));
    assert.deepEqual(
      (await samples('ingest-api', 'im_errors_total')).sort(),
      [
        'im_errors_total{component="grpc",kind="INTERNAL",role="ingest-api"} 0',
        'im_errors_total{component="grpc",kind="UNAVAILABLE",role="ingest-api"} 0',
        'im_errors_total{component="http",kind="INTERNAL",role="ingest-api"} 0',
        'im_errors_total{component="http",kind="UNAVAILABLE",role="ingest-api"} 0',
        'im_errors_total{component="ingest",kind="outcome_unknown",role="ingest-api"} 0',
      ],
    );
    assert.equal((await samples('ingest-api', 'im_acks_total')).length, 3);
  });

  it('a worker: job errors of the queue it consumes, including job_failed for the FailedJobs alert', async () => {
    const errors = await samples('worker-persist', 'im_errors_total');
    assert.ok(errors.includes('im_errors_total{component="im.persist",kind="job_failed",role="worker-persist"} 0'), errors.join('\n'));
    assert.ok(errors.includes('im_errors_total{component="im.persist",kind="seq_conflict",role="worker-persist"} 0'), 'for the SeqConflict alert');
    assert.ok(errors.includes('im_errors_total{component="im.persist",kind="superseded",role="worker-persist"} 0'), 'retried sends a failover made superseded');
    assert.equal(errors.length, 7);
    assert.deepEqual(await samples('worker-persist', 'im_deliveries_total'), [], 'persist never routes deliveries');
  });

  it('worker-delivery: every routing outcome; worker-cleaner: both deletion reasons', async () => {
    const routes = await samples('worker-delivery', 'im_deliveries_total');
    assert.deepEqual(routes.map((l) => /route="(\w+)"/.exec(l)![1]).sort(), ['fallback', 'offline', 'online', 'redelivered']);
    assert.ok((await samples('worker-delivery', 'im_errors_total')).some((l) => l.includes('component="redelivery"')));
    const deleted = await samples('worker-cleaner', 'im_cleaner_deleted_total');
    assert.deepEqual(deleted.map((l) => /reason="(\w+)"/.exec(l)![1]).sort(), ['cap', 'ttl']);
  });

  it('counting on from 0 works as before', async () => {
    const m = createMetrics('worker-cleaner');
    m.cleanerDeleted.inc({ reason: 'ttl' }, 5);
    const text = await m.registry.metrics();
    assert.match(text, /im_cleaner_deleted_total\{reason="ttl",role="worker-cleaner"\} 5\n/);
    assert.match(text, /im_cleaner_deleted_total\{reason="cap",role="worker-cleaner"\} 0\n/);
  });
});
