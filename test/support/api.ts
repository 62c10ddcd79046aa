import { createImClient, type ImClient, type Middleware } from '@im/client';
import { TEST_TOKEN } from './env';
import { sharedValidator, type OpenApiValidator } from './openapi';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * The generated client's middleware that holds every answer against docs/openapi.yaml (route,
 * status, media type, body schema, and for a 2xx the request body): an answer the document does
 * not describe fails the call, so the test that made it fails.
 */
export function openApiCheck(validator: OpenApiValidator = sharedValidator()): Middleware {
  const sent = new Map<string, unknown>();
  return {
    async onRequest({ request, id }) {
      if (request.body === null) return;
      try {
        sent.set(id, JSON.parse(await request.clone().text()));
      } catch {
        // Not JSON (a test's malformed body): nothing to hold against the document.
      }
    },
    async onResponse({ request, response, id }) {
      const requestBody = sent.get(id);
      sent.delete(id);
      const text = await response.clone().text();
      const contentType = response.headers.get('content-type');
      const json = contentType?.startsWith('application/json') ?? false;
      const body = text && json ? JSON.parse(text) : text || undefined;
      const url = new URL(request.url);
      const problems = validator.check({ method: request.method, path: url.pathname, status: response.status, contentType, body, requestBody, headers: response.headers });
      if (problems.length > 0) throw new Error(`the answer does not match docs/openapi.yaml:\n  - ${problems.join('\n  - ')}`);
    },
  };
}

/**
 * The tests' way to the ingest API: the generated client (@im/client, typed from
 * docs/openapi.yaml) with the test token and the document check on every answer. `client` is the
 * typed client; `call` and its shorthands send a path as written (bad bodies, odd paths and
 * headers included) through the same client, for the tests that are about what the API refuses.
 */
export function apiClient(baseUrl: string, token = TEST_TOKEN) {
  const client: ImClient = createImClient({ baseUrl, token: token || undefined, middleware: [openApiCheck()] });
  async function call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const r = await client.request(method.toLowerCase() as 'get', path as '/v1/users/{user_id}/conversations', {
      ...(body === undefined ? {} : { body: body as never, bodySerializer: (b: unknown) => (typeof b === 'string' ? b : JSON.stringify(b)) }),
      headers,
      parseAs: 'text',
    } as never);
    // A 2xx body comes as text (parseAs); openapi-fetch parses an error's body as JSON itself when it can.
    const json = r.response.headers.get('content-type')?.startsWith('application/json') ?? false;
    const text = r.data as unknown as string | undefined;
    const error = r.error as unknown;
    const answer = r.response.ok ? (text && json ? JSON.parse(text) : text || undefined) : error === '' ? undefined : error;
    return { status: r.response.status, body: answer as T, headers: r.response.headers };
  }
  return {
    client,
    call,
    get: <T = any>(path: string) => call<T>('GET', path),
    post: <T = any>(path: string, body: unknown) => call<T>('POST', path, body),
    put: <T = any>(path: string, body: unknown) => call<T>('PUT', path, body),
    del: <T = any>(path: string) => call<T>('DELETE', path),
  };
}
export type ApiClient = ReturnType<typeof apiClient>;
