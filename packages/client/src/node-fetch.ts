import http from 'node:http';
import https from 'node:https';

/** Statuses whose answer has no body (a Response refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * fetch over node:http and node:https, for the client in Node.js. The API's default port, 6000,
 * is one of the ports the fetch standard blocks (X11), so Node's own fetch refuses it; this one
 * does not. Connections are kept alive and reused (one agent per call of nodeFetch).
 */
export function nodeFetch(): (input: Request) => Promise<Response> {
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
  return async (input: Request) => {
    const url = new URL(input.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`nodeFetch: only http and https URLs (got ${url.protocol})`);
    const body = input.body ? Buffer.from(await input.arrayBuffer()) : undefined;
    const headers: Record<string, string> = Object.fromEntries(input.headers);
    if (body) headers['content-length'] = String(body.length);
    const request = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, { method: input.method, headers, agent: agents[url.protocol as 'http:' | 'https:'], signal: input.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers)) for (const v of [value ?? []].flat()) out.append(name, v);
          const status = res.statusCode ?? 0;
          const empty = NULL_BODY.has(status) || input.method === 'HEAD';
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: out }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  };
}
