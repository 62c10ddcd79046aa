import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ProcessHealth } from '@im/worker-kit';
import { HEALTH_PROTO, readinessHealth } from './health';

type HealthClient = grpc.Client & {
  Check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
  Watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

/** Waits until `check` holds, trying every 20 ms (for up to 60 s: the machine may be loaded). */
async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 3000; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('grpc.health.v1 follows the process readiness', () => {
  const processHealth = new ProcessHealth();
  let leaseHeld = true;
  processHealth.require('message-id lease', () => leaseHeld);
  const health = readinessHealth(processHealth, ['im.message.v1.MessageService'], 20);
  const server = new grpc.Server();
  let client: HealthClient;

  before(async () => {
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO.file, { includeDirs: [HEALTH_PROTO.dir], keepCase: true, enums: String })) as any;
    client = new pkg.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(() => {
    client.close();
    server.forceShutdown();
  });

  const check = (service: string) => new Promise<string>((resolve, reject) => client.Check({ service }, (err, res) => (err ? reject(err) : resolve(res!.status))));
  const becomes = (service: string, status: string) => until(`${service || 'the server'} ${status}`, async () => ((await check(service)) === status ? true : undefined));

  it('is NOT_SERVING while starting, SERVING once serving, NOT_SERVING without the lease and while draining, pushed to watchers', async () => {
    assert.equal(await check(''), 'NOT_SERVING');
    assert.equal(await check('im.message.v1.MessageService'), 'NOT_SERVING');
    const seen: string[] = [];
    const watch = client.Watch({ service: '' });
    watch.on('data', (m: { status: string }) => seen.push(m.status));
    watch.on('error', () => {});
    // The stream's first message is the status when it started: wait for it before changing any.
    await until('the watcher to start', async () => (seen.length > 0 ? true : undefined));
    processHealth.serving();
    await becomes('', 'SERVING');
    await becomes('im.message.v1.MessageService', 'SERVING');
    leaseHeld = false;
    await becomes('', 'NOT_SERVING');
    leaseHeld = true;
    await becomes('', 'SERVING');
    processHealth.draining();
    await becomes('im.message.v1.MessageService', 'NOT_SERVING');
    await until('the watcher to see every change', async () => (seen.length >= 5 ? true : undefined));
    assert.deepEqual(seen, ['NOT_SERVING', 'SERVING', 'NOT_SERVING', 'SERVING', 'NOT_SERVING']);
    watch.cancel();
  });

  it('answers NOT_FOUND for a service it does not serve, and NOT_SERVING at once when stopped', async () => {
    await assert.rejects(check('no.such.Service'), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    const other = new ProcessHealth();
    other.serving();
    const h = readinessHealth(other, [], 60_000);
    const s = new grpc.Server();
    h.addToServer(s);
    const port = await new Promise<number>((resolve, reject) => s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO.file, { includeDirs: [HEALTH_PROTO.dir], keepCase: true, enums: String })) as any;
    const c = new pkg.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as HealthClient;
    const ask = () => new Promise<string>((resolve, reject) => c.Check({ service: '' }, (err, res) => (err ? reject(err) : resolve(res!.status))));
    assert.equal(await ask(), 'SERVING');
    // The sampling interval is a minute: only stop() can have changed it.
    h.stop();
    assert.equal(await ask(), 'NOT_SERVING');
    c.close();
    s.forceShutdown();
  });
});
