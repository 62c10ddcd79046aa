import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const DOC_PATH = fileURLToPath(new URL('../../docs/asyncapi.yaml', import.meta.url));
const DOC_ID = 'asyncapi.json';

type Ref = { $ref: string };
interface MessageObject {
  name?: string;
  payload: unknown;
}
interface ChannelObject {
  address: string;
  messages: Record<string, MessageObject | Ref>;
}
export type AsyncApiDoc = { channels: Record<string, ChannelObject>; components: Record<string, Record<string, unknown>> } & Record<string, unknown>;

/** docs/asyncapi.yaml as text (for the AsyncAPI parser) and parsed. */
export function asyncApiText(): string {
  return readFileSync(DOC_PATH, 'utf8');
}
export function loadAsyncApi(): AsyncApiDoc {
  return parse(asyncApiText()) as AsyncApiDoc;
}

const escape = (part: string) => part.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * Checks Pub/Sub payloads against the AsyncAPI document with ajv (AsyncAPI's schemas are JSON
 * Schema draft-07 with a few extra keywords): the channel must be documented (its address, with
 * parameters filled in), the payload must be JSON, its `event` one of the channel's messages, and
 * the payload must validate against that message's schema. The events a gateway receives are
 * checked the way test/support/openapi.ts checks HTTP answers.
 */
export class AsyncApiValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly channels: { id: string; address: string; regex: RegExp }[];
  /** "channel id / message id" of every payload checked so far, for coverage checks. */
  readonly seen = new Set<string>();

  constructor(readonly doc: AsyncApiDoc = loadAsyncApi()) {
    this.ajv.addSchema(doc as object, DOC_ID);
    this.channels = Object.entries(doc.channels).map(([id, c]) => ({
      id,
      address: c.address,
      regex: new RegExp(`^${c.address.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[1-9][0-9]{0,18}')}$`),
    }));
  }

  /** Every documented channel id and message id, as "channel/message". */
  messages(): string[] {
    return Object.entries(this.doc.channels).flatMap(([id, c]) => Object.keys(c.messages).map((m) => `${id}/${m}`));
  }

  private resolve(ref: string): { node: unknown; pointer: string } {
    let node: unknown = this.doc;
    const pointer = ref.replace(/^#/, '');
    for (const part of pointer.slice(1).split('/')) node = (node as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
    return { node, pointer };
  }

  /** A channel message, following $refs: the JSON pointer of its payload schema and its event name. */
  private message(channelId: string, messageId: string): { payloadPtr: string; event: unknown } {
    let pointer = ['', 'channels', channelId, 'messages', messageId].map(escape).join('/');
    let node = this.doc.channels[channelId]!.messages[messageId] as MessageObject | Ref;
    while ('$ref' in node) ({ node, pointer } = this.resolve(node.$ref) as { node: MessageObject | Ref; pointer: string });
    let payloadPtr = `${pointer}/payload`;
    let payload = node.payload as Record<string, unknown>;
    while (typeof payload.$ref === 'string') {
      const r = this.resolve(payload.$ref);
      payload = r.node as Record<string, unknown>;
      payloadPtr = r.pointer;
    }
    const event = (payload.properties as Record<string, { const?: unknown }> | undefined)?.event?.const;
    return { payloadPtr, event };
  }

  private schema(ptr: string): ValidateFunction {
    let v = this.compiled.get(ptr);
    if (!v) {
      v = this.ajv.compile({ $ref: `${DOC_ID}#${ptr}` });
      this.compiled.set(ptr, v);
    }
    return v;
  }

  /** Problems with one payload received on `channel`; an empty list when it matches the document. */
  check(channel: string, raw: string): string[] {
    const found = this.channels.find((c) => c.regex.test(channel));
    if (!found) return [`${channel}: no documented channel has this address (documented: ${this.channels.map((c) => c.address).join(', ')})`];
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      return [`${channel}: the payload is not JSON: ${raw.slice(0, 80)}`];
    }
    const event = (payload as { event?: unknown } | null)?.event;
    const candidates = Object.keys(this.doc.channels[found.id]!.messages).map((id) => ({ id, ...this.message(found.id, id) }));
    const m = candidates.find((c) => c.event === event);
    if (!m) return [`${channel}: event ${JSON.stringify(event)} is not documented on ${found.address} (documented: ${candidates.map((c) => c.event).join(', ')})`];
    this.seen.add(`${found.id}/${m.id}`);
    const v = this.schema(m.payloadPtr);
    if (v(payload)) return [];
    const errors = (v.errors ?? [])
      .slice(0, 6)
      .map((e) => `${e.instancePath || '(payload)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`)
      .join('; ');
    return [`${channel}: the ${String(event)} payload does not match ${found.address}'s ${m.id} schema: ${errors}`];
  }
}

let shared: AsyncApiValidator | undefined;

/** One validator per test process: the gateway simulator checks every payload it receives with it. */
export function sharedAsyncApiValidator(): AsyncApiValidator {
  shared ??= new AsyncApiValidator();
  return shared;
}
