import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RunContext } from './commands';

/** One call to the ingest API; a non-2xx answer throws with the contract's error message. */
export async function apiCall(ctx: RunContext, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const url = (ctx.values.url as string | undefined) ?? `http://127.0.0.1:${ctx.config.message_service.port}`;
  const token = (ctx.values.token as string | undefined) ?? ctx.config.auth.api_tokens[0];
  if (!token) throw new Error('no API token: pass --token or set IM_API_TOKENS');
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  const data = body === undefined ? undefined : JSON.stringify(body);
  // node:http rather than fetch: fetch refuses the API's default port 6000 ("bad port").
  const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      url + path,
      { method, headers: { authorization: `Bearer ${token}`, ...(data ? { 'content-type': 'application/json' } : {}) } },
      (r: IncomingMessage) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', (err: Error) => reject(new Error(`cannot reach ${url}: ${err.message}`)));
    req.end(data);
  });
  const parsed = res.text ? JSON.parse(res.text) : undefined;
  if (res.status >= 300) throw new Error(`${res.status} ${parsed?.error?.code ?? ''}: ${parsed?.error?.message ?? res.text}`);
  return { status: res.status, body: parsed };
}
