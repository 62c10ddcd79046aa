import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dependencyChecks, ProcessHealth } from './health';

describe('ProcessHealth', () => {
  it('is ready only while serving, with every condition of its own holding, and not after draining begins', () => {
    const h = new ProcessHealth();
    let leased = true;
    h.require('id_lease', () => leased);
    assert.deepEqual(h.readiness().body, { status: 'unavailable', reasons: ['starting'] });
    h.serving();
    assert.deepEqual(h.readiness(), { ready: true, body: { status: 'ready' } });
    leased = false;
    assert.deepEqual(h.readiness().body, { status: 'unavailable', reasons: ['id_lease'] });
    leased = true;
    h.draining();
    h.serving();
    assert.deepEqual(h.readiness().body, { status: 'unavailable', reasons: ['draining'] }, 'draining is for good');
  });

  it('reports Redis and MySQL apart from readiness: a dependency down leaves the process ready', async () => {
    const h = new ProcessHealth();
    let mysqlUp = true;
    h.dependOn(
      dependencyChecks(
        { ping: async () => 'PONG' },
        {
          query: async () => {
            if (!mysqlUp) throw new Error('connect ECONNREFUSED');
          },
        },
      ),
    );
    h.serving();
    assert.deepEqual(await h.dependencies(), { ok: true, body: { status: 'ok', dependencies: { redis: 'up', mysql: 'up' } } });
    mysqlUp = false;
    assert.deepEqual(await h.dependencies(), { ok: false, body: { status: 'unavailable', failed: ['mysql'], dependencies: { redis: 'up', mysql: 'down' } } });
    assert.equal(h.readiness().ready, true);
  });

  it('counts a check that does not answer in time as down', async () => {
    const h = new ProcessHealth();
    h.dependOn({ redis: () => new Promise(() => {}), mysql: async () => 1 });
    const r = await h.dependencies(20);
    assert.deepEqual(r.body, { status: 'unavailable', failed: ['redis'], dependencies: { redis: 'down', mysql: 'up' } });
  });
});
