import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { parse } from 'yaml';
import { findUp } from '@im/config';

/** The OpenAPI document of the HTTP API: docs/openapi.yaml, the one source of truth. */
export type OpenApiDocument = { openapi: string; info: object; paths: Record<string, Record<string, unknown>> } & Record<string, unknown>;

let cached: OpenApiDocument | undefined;

/** Reads docs/openapi.yaml once (found upward from this module, so it works from the sources and from a bundle). */
export function openApiDocument(): OpenApiDocument {
  if (!cached) {
    const doc = parse(readFileSync(findUp('docs/openapi.yaml'), 'utf8')) as OpenApiDocument;
    if (typeof doc?.openapi !== 'string' || !doc.openapi.startsWith('3.1.') || typeof doc.paths !== 'object') {
      throw new Error('docs/openapi.yaml is not an OpenAPI 3.1 document');
    }
    cached = Object.freeze(doc);
  }
  return cached;
}

/** Routes under /docs (Swagger UI, its scripts served from the package, nothing from the network) belong to the docs page. */
export const isDocsRoute = (url: string): boolean => url === '/openapi.json' || url === '/docs' || url.startsWith('/docs/');

/**
 * GET /openapi.json (the document) and GET /docs (Swagger UI over it). The document describes the
 * routes; it does not validate requests: the routes' own checks give the contract's error texts.
 */
export function docsRoutes(document: OpenApiDocument): FastifyPluginAsync {
  return async (app) => {
    await app.register(swagger, { mode: 'static', specification: { document: document as never } });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null, displayOperationId: true },
      validatorUrl: false,
    });
    app.get('/openapi.json', async () => document);
  };
}
