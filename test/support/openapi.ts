import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { parse } from 'yaml';

const DOC_PATH = fileURLToPath(new URL('../../docs/openapi.yaml', import.meta.url));
const DOC_ID = 'openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

export type OpenApiDoc = {
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components: Record<string, Record<string, unknown>>;
} & Record<string, unknown>;

interface Operation {
  operationId: string;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, ResponseObject | { $ref: string }>;
}

interface HeaderObject {
  required?: boolean;
  schema?: { type?: string; minimum?: number };
}

interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject | { $ref: string }>;
  content?: Record<string, { schema: unknown }>;
}

/** One answer of the API as a test saw it. */
export interface RecordedExchange {
  method: string;
  /** The path as sent, with its query string. */
  path: string;
  status: number;
  contentType: string | null;
  body: unknown;
  /** The JSON request body, if one was sent. */
  requestBody?: unknown;
  /** The answer's headers, when the caller has them: the document's required headers are checked. */
  headers?: Headers | Record<string, string | string[] | number | undefined>;
}

function headerOf(headers: NonNullable<RecordedExchange['headers']>, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const v = headers[name.toLowerCase()];
  return v === undefined ? undefined : String(v);
}

/** docs/openapi.yaml, parsed. */
export function loadOpenApi(): OpenApiDoc {
  return parse(readFileSync(DOC_PATH, 'utf8')) as OpenApiDoc;
}

const escape = (part: string) => part.replaceAll('~', '~0').replaceAll('/', '~1');
/** A JSON pointer below `base` (itself a pointer, already escaped). */
const pointer = (base: string, ...parts: string[]) => [base, ...parts.map(escape)].join('/');

/**
 * Checks answers against the OpenAPI document with ajv (JSON Schema 2020-12, OpenAPI 3.1's
 * dialect): the route and status must be documented, the media type must match, and a JSON body
 * must validate against the documented schema. Requests that got a 2xx are checked against the
 * documented request body too, so the document never refuses what the service accepts.
 */
export class OpenApiValidator {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: { template: string; regex: RegExp; params: number }[];
  /** operationId and status of every answer checked so far, for coverage checks. */
  readonly seen = new Set<string>();

  constructor(readonly doc: OpenApiDoc = loadOpenApi()) {
    this.ajv.addSchema(doc as object, DOC_ID);
    this.routes = Object.keys(doc.paths)
      .map((template) => ({
        template,
        regex: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
        params: (template.match(/\{/g) ?? []).length,
      }))
      // A literal segment wins over a parameter (/v1/messages/batch before /v1/messages/{message_id}).
      .sort((a, b) => a.params - b.params);
  }

  /** The documented operation for a method and a concrete path, if any. */
  operation(method: string, path: string): { template: string; op: Operation } | undefined {
    const bare = path.split('?')[0]!;
    const m = method.toLowerCase() as (typeof METHODS)[number];
    for (const r of this.routes) {
      const op = this.doc.paths[r.template]![m];
      if (op && r.regex.test(bare)) return { template: r.template, op };
    }
    return undefined;
  }

  /** Every documented operation as "METHOD /template". */
  operations(): string[] {
    return Object.entries(this.doc.paths).flatMap(([template, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${template}`));
  }

  /** Problems of a body against one of the document's schemas (`PushWebhook`, ...): what the service sends out, checked like its answers. */
  checkSchema(name: string, body: unknown): string[] {
    const v = this.schema(`/components/schemas/${name}`);
    return v(body) ? [] : [`${name}: ${this.errors(v)}`];
  }

  private schema(ref: string): ValidateFunction {
    let v = this.compiled.get(ref);
    if (!v) {
      v = this.ajv.compile({ $ref: `${DOC_ID}#${ref}` });
      this.compiled.set(ref, v);
    }
    return v;
  }

  private errors(v: ValidateFunction): string {
    return (v.errors ?? [])
      .slice(0, 6)
      .map((e) => `${e.instancePath || '(body)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`)
      .join('; ');
  }

  /** Problems with one answer; an empty list when it matches the document. */
  check(x: RecordedExchange): string[] {
    const what = `${x.method} ${x.path.split('?')[0]} -> ${x.status}`;
    const type = x.contentType?.split(';')[0]!.trim() ?? null;
    const found = this.operation(x.method, x.path);
    if (!found) {
      // Unknown routes answer with the contract's error: 401 without a valid token, else 404.
      if (x.status !== 401 && x.status !== 404) return [`${what}: no documented route, yet the answer is not 401 or 404`];
      const v = this.schema('/components/schemas/Error');
      return v(x.body) ? [] : [`${what}: an unknown route must answer with the contract's error body: ${this.errors(v)}`];
    }
    const { template, op } = found;
    const problems: string[] = [];
    const base = pointer('', 'paths', template, x.method.toLowerCase(), 'responses');
    let responsePtr = `${base}/${x.status}`;
    let response = op.responses[String(x.status)];
    if (!response) {
      return [`${what}: status ${x.status} is not documented for ${x.method} ${template} (documented: ${Object.keys(op.responses).join(', ')})`];
    }
    this.seen.add(`${op.operationId} ${x.status}`);
    if ('$ref' in response) {
      responsePtr = response.$ref.slice(1);
      response = this.resolve(response.$ref) as ResponseObject;
    }
    if (x.headers) {
      for (const [name, h] of Object.entries((response as ResponseObject).headers ?? {})) {
        const header = ('$ref' in h ? this.resolve(h.$ref) : h) as HeaderObject;
        const value = headerOf(x.headers, name);
        if (value === undefined) {
          if (header.required) problems.push(`${what}: the required header ${name} is missing`);
        } else if (header.schema?.type === 'integer' && (!/^\d+$/.test(value) || Number(value) < (header.schema.minimum ?? 0))) {
          problems.push(`${what}: header ${name} must be an integer of at least ${header.schema.minimum ?? 0} (got ${value})`);
        }
      }
    }
    const content = (response as ResponseObject).content;
    if (!content) {
      if (x.body !== undefined && x.body !== '') problems.push(`${what}: documented without a body, but one came back`);
    } else if (type === null || !content[type]) {
      problems.push(`${what}: content type ${type ?? '(none)'} is not documented (documented: ${Object.keys(content).join(', ')})`);
    } else if (type === 'application/json') {
      const v = this.schema(pointer(responsePtr, 'content', type, 'schema'));
      if (!v(x.body)) problems.push(`${what}: the body does not match ${template}'s ${x.status} schema: ${this.errors(v)}`);
    } else if (typeof x.body !== 'string') {
      problems.push(`${what}: expected a ${type} text body`);
    }
    if (x.status >= 200 && x.status < 300 && x.requestBody !== undefined) {
      const rb = op.requestBody?.content['application/json'];
      if (!rb) {
        problems.push(`${what}: accepted a JSON body, but the document describes none`);
      } else {
        const v = this.schema(pointer('', 'paths', template, x.method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema'));
        if (!v(x.requestBody)) problems.push(`${what}: the service accepted a request body the document refuses: ${this.errors(v)}`);
      }
    }
    return problems;
  }

  private resolve(ref: string): unknown {
    let node: unknown = this.doc;
    for (const part of ref.replace(/^#\//, '').split('/')) {
      node = (node as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
    }
    return node;
  }
}

let shared: OpenApiValidator | undefined;

/** One validator per test process: the API client checks every answer with it. */
export function sharedValidator(): OpenApiValidator {
  shared ??= new OpenApiValidator();
  return shared;
}
