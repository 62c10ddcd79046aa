import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createImClient } from './index';
import { nodeFetch } from './node-fetch';

/** A real HTTP server that answers as the API would, and records what it was sent. */
describe('nodeFetch and the client over node:http', () => {
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url!.startsWith('/v1/users/')) return void res.writeHead(204).end();
      if (req.url === '/v1/messages') {
        if (req.headers.authorization !== 'Bearer tok-123') return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"UNAUTHENTICATED","message":"no"}}');
        return void res.writeHead(202, { 'content-type': 'application/json; charset=utf-8', 'set-cookie': ['a=1', 'b=2'] }).end(JSON.stringify({ message_id: '9007199254740993', seq: 1, timestamp: 5 }));
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOT_FOUND","message":"no route"}}');
    });
  });
  let baseUrl = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('sends the method, headers and UTF-8 body, and gives status, every header and the body back', async () => {
    const f = nodeFetch();
    const res = await f(new Request(`${baseUrl}/v1/messages`, { method: 'POST', headers: { authorization: 'Bearer tok-123', 'content-type': 'application/json' }, body: '{"content":"你好 👋"}' }));
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('set-cookie'), 'a=1, b=2');
    assert.deepEqual(await res.json(), { message_id: '9007199254740993', seq: 1, timestamp: 5 });
    const last = seen.at(-1)!;
    assert.equal(last.body, '{"content":"你好 👋"}');
    assert.equal(last.headers['content-length'], String(Buffer.byteLength('{"content":"你好 👋"}')));
  });

  it('gives a 204 without a body, and refuses a URL that is not http or https', async () => {
    const res = await nodeFetch()(new Request(`${baseUrl}/v1/users/1`, { method: 'PUT', body: '{"name":"a"}' }));
    assert.equal(res.status, 204);
    assert.equal(res.body, null);
    await assert.rejects(nodeFetch()(new Request('file:///etc/passwd')), /only http and https/);
  });

  it('is the typed client: token on every request, data on 2xx, the contract error otherwise', async () => {
    const api = createImClient({ baseUrl, token: 'tok-123' });
    const ok = await api.POST('/v1/messages', { body: { sender_id: '1', receiver_id: '2', content: 'hi' } });
    assert.equal(ok.response.status, 202);
    assert.deepEqual(ok.data, { message_id: '9007199254740993', seq: 1, timestamp: 5 });
    assert.equal(seen.at(-1)!.headers.authorization, 'Bearer tok-123');
    assert.deepEqual(JSON.parse(seen.at(-1)!.body), { sender_id: '1', receiver_id: '2', content: 'hi' });

    const wrong = createImClient({ baseUrl, token: 'other' });
    const refused = await wrong.POST('/v1/messages', { body: { sender_id: '1', receiver_id: '2', content: 'hi' } });
    assert.equal(refused.response.status, 401);
    assert.equal(refused.data, undefined);
    assert.deepEqual(refused.error, { error: { code: 'UNAUTHENTICATED', message: 'no' } });

    const put = await api.PUT('/v1/users/{user_id}', { params: { path: { user_id: '9007199254740993' } }, body: { name: 'a' } });
    assert.equal(put.response.status, 204);
    assert.equal(seen.at(-1)!.url, '/v1/users/9007199254740993');
  });
});
