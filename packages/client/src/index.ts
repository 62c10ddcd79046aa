import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import { nodeFetch } from './node-fetch';
import type { components, operations, paths } from './schema';

export type { components, operations, paths } from './schema';
export type { Middleware } from 'openapi-fetch';
export { nodeFetch } from './node-fetch';

type Schemas = components['schemas'];
export type Message = Schemas['Message'];
export type OfflineMessage = Schemas['OfflineMessage'];
export type SendResult = Schemas['SendResult'];
export type Conversation = Schemas['Conversation'];
export type ApiError = Schemas['Error'];

/** The typed client of the HTTP API: `client.POST('/v1/messages', { body })`, `client.GET('/v1/users/{user_id}/history', { params })`. */
export type ImClient = Client<paths>;

export interface ImClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** The API's address, e.g. http://127.0.0.1:6000 (no /v1). */
  baseUrl: string;
  /** A bearer token of `auth.api_tokens`, sent on every request; omit to send none. */
  token?: string;
  /** Hooks on every request and answer (logging, checks, retries). */
  middleware?: readonly Middleware[];
}

/**
 * A client of the HTTP API from docs/openapi.yaml: every path, parameter, body and answer typed
 * (src/schema.ts, generated), requests sent with openapi-fetch. Answers come back as
 * `{ data, error, response }`: `error` is the contract's `{error: {code, message}}` for any
 * non-2xx. In Node.js the default fetch is nodeFetch() (node:http), which also reaches the
 * default port 6000 that the fetch standard blocks; pass `fetch` to use another.
 */
export function createImClient(options: ImClientOptions): ImClient {
  const { token, middleware = [], headers, ...rest } = options;
  const client = createClient<paths>({
    fetch: nodeFetch(),
    ...rest,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(headers as Record<string, string> | undefined) },
  });
  for (const m of middleware) client.use(m);
  return client;
}
