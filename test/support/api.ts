import { TEST_TOKEN } from './env';
import { sharedValidator } from './openapi';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * A tiny HTTP client for the ingest API with the test token. Every answer is checked against
 * docs/openapi.yaml (route, status, media type, body schema): an answer the document does not
 * describe fails the test that received it.
 */
export function apiClient(baseUrl: string, token = TEST_TOKEN) {
  const validator = sharedValidator();
  async function call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const contentType = res.headers.get('content-type');
    const json = contentType?.startsWith('application/json') ?? false;
    const parsed = text && json ? JSON.parse(text) : text || undefined;
    const problems = validator.check({ method, path, status: res.status, contentType, body: parsed, requestBody: typeof body === 'string' ? undefined : body, headers: res.headers });
    if (problems.length > 0) throw new Error(`the answer does not match docs/openapi.yaml:\n  - ${problems.join('\n  - ')}`);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
  return {
    call,
    get: <T = any>(path: string) => call<T>('GET', path),
    post: <T = any>(path: string, body: unknown) => call<T>('POST', path, body),
    put: <T = any>(path: string, body: unknown) => call<T>('PUT', path, body),
    del: <T = any>(path: string) => call<T>('DELETE', path),
  };
}
export type ApiClient = ReturnType<typeof apiClient>;
