import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GRPC_STATUS, PROTO_FILE, PROTO_OPTIONS } from '../../apps/ingest-api/src/grpc/server';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomUserBase } from '../support/env';
import { Fleet } from '../support/fleet';
import { bearer, rejectsWith } from '../support/grpc';
import { waitFor } from '../support/wait';

type Call = (req: object, metadata?: grpc.Metadata) => Promise<any>;

describe('gRPC MessageService end to end', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let client: grpc.Client;
  let rpc: Record<'SendMessage' | 'SendGroupMessage' | 'PullOfflineMessage', Call>;
  const base = randomUserBase();
  const [ann, bob, cid, eve, spammer] = [1n, 2n, 3n, 4n, 5n].map((n) => String(base + n)) as [string, string, string, string, string];
  const group = String(base + 50n);


  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url, { IM_RATE_LIMIT_PER_SENDER_PER_S: '5' }).startAll(['ingest-api', 'worker-persist', 'worker-fanout', 'worker-delivery']);
    for (const [u, name] of [[ann, 'ann'], [bob, 'bob'], [cid, 'cid'], [eve, 'eve'], [spammer, 'spam']] as const) await fleet.api.put(`/v1/users/${u}`, { name });
    await fleet.api.put(`/v1/groups/${group}`, { name: 'grpc group' });
    await fleet.api.post(`/v1/groups/${group}/members`, { add: [ann, bob, cid] });
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_FILE, PROTO_OPTIONS)) as any;
    client = new pkg.mpim.MessageService(`127.0.0.1:${fleet.grpcPort}`, grpc.credentials.createInsecure());
    const wrap =
      (method: string): Call =>
      (req, metadata = bearer()) =>
        new Promise((resolve, reject) => (client as any)[method](req, metadata, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))));
    rpc = { SendMessage: wrap('SendMessage'), SendGroupMessage: wrap('SendGroupMessage'), PullOfflineMessage: wrap('PullOfflineMessage') };
  });

  after(async () => {
    client?.close();
    await fleet?.stop();
    await db?.drop();
  });

  it('sends a single message, deduplicates by client_msg_id, and pulls by cursor', async () => {
    const first = await rpc.SendMessage({ sender_id: ann, receiver_id: bob, content: '你好 over gRPC 👋', message_type: 'TEXT', client_msg_id: 'g-1' });
    assert.deepEqual(first.result, { code: 0, msg: 'OK' });
    assert.match(first.message_id, /^\d+$/);
    assert.equal(first.seq, '1');
    const again = await rpc.SendMessage({ sender_id: ann, receiver_id: bob, content: '你好 over gRPC 👋', client_msg_id: 'g-1' });
    assert.equal(again.message_id, first.message_id);
    const second = await rpc.SendMessage({ sender_id: ann, receiver_id: bob, content: 'an image', message_type: 'IMAGE' });
    assert.equal(second.seq, '2');

    const page1 = await waitFor('two offline messages', async () => {
      const r = await rpc.PullOfflineMessage({ user_id: bob, limit: 1 });
      return r.has_more ? r : undefined;
    });
    assert.equal(page1.messages.length, 1);
    assert.equal(page1.messages[0].message_id, first.message_id);
    assert.equal(page1.messages[0].id, first.message_id);
    assert.equal(page1.messages[0].content, '你好 over gRPC 👋');
    assert.equal(page1.messages[0].sender_name, 'ann');
    assert.equal(page1.messages[0].group_id, '0');
    assert.equal(page1.messages[0].message_type, 'TEXT');
    const page2 = await rpc.PullOfflineMessage({ user_id: bob, limit: 10, last_message_id: first.message_id });
    assert.deepEqual(page2.messages.map((m: any) => [m.message_id, m.message_type]), [[second.message_id, 'IMAGE']]);
    assert.equal(page2.has_more, false);
  });

  it('sends to a group with SendGroupMessage and with SendMessage carrying group_id', async () => {
    const a = await rpc.SendGroupMessage({ sender_id: ann, group_id: group, content: 'group via gRPC' });
    const b = await rpc.SendMessage({ sender_id: bob, group_id: group, content: 'group via SendMessage' });
    assert.equal(a.seq, '1');
    assert.equal(b.seq, '2');
    const pulled = await waitFor('both group messages for cid', async () => {
      const r = await rpc.PullOfflineMessage({ user_id: cid });
      return r.messages.length === 2 ? r.messages : undefined;
    });
    assert.deepEqual(pulled.map((m: any) => [m.group_id, m.group_name]), [
      [group, 'grpc group'],
      [group, 'grpc group'],
    ]);
  });

  it('maps every error to its gRPC status, with the contract code and reason in the trailers, and a pushback where a retry helps', async () => {
    const noToken = await rejectsWith(rpc.SendMessage({ sender_id: ann, receiver_id: bob, content: 'x' }, new grpc.Metadata()), grpc.status.UNAUTHENTICATED, /bearer/);
    assert.deepEqual(noToken.metadata.get('im-error-code'), ['UNAUTHENTICATED']);
    await rejectsWith(rpc.SendMessage({ sender_id: ann, receiver_id: bob, content: 'x' }, bearer('not-the-token-0000000')), grpc.status.UNAUTHENTICATED);
    const zero = await rejectsWith(rpc.SendMessage({ sender_id: '0', receiver_id: bob, content: 'x' }), grpc.status.INVALID_ARGUMENT, /sender_id/);
    assert.deepEqual(zero.metadata.get('im-error-code'), ['INVALID_ARGUMENT']);
    await rejectsWith(rpc.SendMessage({ sender_id: ann, receiver_id: bob, content: '' }), grpc.status.INVALID_ARGUMENT, /content/);
    await rejectsWith(rpc.SendMessage({ sender_id: ann, receiver_id: bob, content: 'x'.repeat(4097) }), grpc.status.INVALID_ARGUMENT, /4097/);
    await rejectsWith(rpc.SendMessage({ sender_id: ann, receiver_id: bob, content: 'x', client_msg_id: 'bad id!' }), grpc.status.INVALID_ARGUMENT, /client_msg_id/);
    assert.deepEqual(zero.metadata.get('im-error-reason'), ['INVALID_FIELD']);
    const noUser = await rejectsWith(rpc.SendMessage({ sender_id: ann, receiver_id: String(base + 99n), content: 'x' }), grpc.status.NOT_FOUND, /receiver_id/);
    assert.deepEqual(noUser.metadata.get('im-error-reason'), ['UNKNOWN_USER']);
    const notMember = await rejectsWith(rpc.SendGroupMessage({ sender_id: eve, group_id: group, content: 'x' }), grpc.status.PERMISSION_DENIED, /not a member/);
    assert.deepEqual(notMember.metadata.get('im-error-reason'), ['NOT_A_MEMBER']);
    const noGroup = await rejectsWith(rpc.SendGroupMessage({ sender_id: ann, group_id: String(base + 98n), content: 'x' }), grpc.status.NOT_FOUND);
    assert.deepEqual(noGroup.metadata.get('im-error-reason'), ['UNKNOWN_GROUP']);
    assert.deepEqual(noGroup.metadata.get('grpc-retry-pushback-ms'), [], 'no pushback on an error a retry cannot mend');
    await rejectsWith(rpc.PullOfflineMessage({ user_id: '0' }), grpc.status.INVALID_ARGUMENT, /user_id/);
    await rejectsWith(rpc.PullOfflineMessage({ user_id: bob, limit: 1001 }), grpc.status.INVALID_ARGUMENT, /limit/);
    await rejectsWith(rpc.PullOfflineMessage({ user_id: String(base + 97n) }), grpc.status.NOT_FOUND);
    const limited = await waitFor('a rate-limited send', async () => {
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => rpc.SendMessage({ sender_id: spammer, receiver_id: ann, content: `spam ${i}` })));
      return results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    });
    const limitedErr = limited.reason as grpc.ServiceError;
    assert.equal(limitedErr.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.deepEqual(limitedErr.metadata.get('im-error-reason'), ['RATE_LIMITED'], 'told apart from a message too large, the same gRPC status');
    assert.deepEqual(limitedErr.metadata.get('grpc-retry-pushback-ms'), ['1000']);
    assert.equal(GRPC_STATUS.UNAVAILABLE, grpc.status.UNAVAILABLE);
    assert.equal(GRPC_STATUS.INTERNAL, grpc.status.INTERNAL);
  });
});
