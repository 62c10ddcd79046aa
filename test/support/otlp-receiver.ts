import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as an OTLP receiver gets it, with the service that sent it. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, string | number | boolean>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
}

export const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

/** OTLP/JSON ids are hex; the protobuf JSON mapping would give base64: both become hex. */
function hexId(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  if (/^[0-9a-f]+$/.test(v) && (v.length === 32 || v.length === 16)) return v;
  return Buffer.from(v, 'base64').toString('hex');
}

function valueOf(v: Record<string, unknown> | undefined): string | number | boolean {
  if (!v) return '';
  if ('stringValue' in v) return String(v.stringValue);
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('boolValue' in v) return Boolean(v.boolValue);
  return JSON.stringify(v);
}

const attributesOf = (list: unknown): Record<string, string | number | boolean> =>
  Object.fromEntries(((list as { key: string; value: Record<string, unknown> }[] | undefined) ?? []).map((a) => [a.key, valueOf(a.value)]));

/**
 * A local OTLP/HTTP receiver of traces in the JSON encoding (OTEL_EXPORTER_OTLP_PROTOCOL=http/json),
 * as an OpenTelemetry Collector's otlp receiver takes them on POST /v1/traces: every process of a
 * fleet exports to it, and a test reads back the spans it got.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests it refused (not an OTLP/JSON trace export): a test asserts there are none. */
  readonly refused: string[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
          this.refused.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
          res.writeHead(415).end();
          return;
        }
        try {
          this.take(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          this.refused.push(`unreadable export: ${(err as Error).message}`);
          res.writeHead(400).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private take(body: { resourceSpans?: unknown[] }): void {
    for (const rs of (body.resourceSpans ?? []) as { resource?: { attributes?: unknown }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[]) {
      const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            traceId: hexId(s.traceId)!,
            spanId: hexId(s.spanId)!,
            parentSpanId: hexId(s.parentSpanId),
            name: String(s.name),
            kind: Number(s.kind),
            links: ((s.links as { traceId: string; spanId: string }[] | undefined) ?? []).map((l) => ({ traceId: hexId(l.traceId)!, spanId: hexId(l.spanId)! })),
            attributes: attributesOf(s.attributes),
            status: Number((s.status as { code?: number } | undefined)?.code ?? 0),
          });
        }
      }
    }
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
