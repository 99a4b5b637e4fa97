/**
 * The OpenAPI 3 document of the API, generated from the route contracts (src/http/contracts), at GET /docs/json
 * (and /docs/yaml), with Swagger UI at GET /docs (its files come from the @fastify/swagger-ui package: no CDN).
 *
 * Who may read it: anyone signed in (a session or an API token), like the API it describes. The document names
 * every route, the operator's included; the people who can call the API are the people who need it, and a stranger
 * learns nothing from it that the 401s would not tell. The UI is an ordinary page of the app for a signed-in
 * browser (its session cookie is sent with "Try it out"; writes need the x-csrf-token header, so scripts use a token).
 *
 * The document covers the API (/api/v1) and /health; the app's pages, sign-in, connect flows, webhooks and
 * unsubscribe links are not part of it.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export const DOCS_PREFIX = '/docs';

const documented = (url: string) => url.startsWith('/api/') || url === '/health';

/** Registers @fastify/swagger: call before the routes it should describe are registered. */
export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  const zodTransform = createJsonSchemaTransform({ skipList: [] });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Duely API',
        description:
          'Accounts-receivable automation: ledger, lists, risk, dunning and analytics per tenant. Every route ' +
          'under /api/v1 needs a session (the app) or an API token (`Authorization: Bearer duely_…`, issued by ' +
          '`duely token`). Errors answer `{ "error": { "code", "message", "details"?, "total"? } }` (`total`: how many problems ' +
          '`details` is the start of, e.g. every error of a refused CSV when only the first 200 are listed).',
        version: '1',
      },
      components: {
        securitySchemes: {
          apiToken: { type: 'http', scheme: 'bearer', description: 'An API token from `duely token`' },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'duely_session',
            description: 'The app’s session; state-changing requests also send x-csrf-token',
          },
        },
      },
      security: [{ apiToken: [] }, { session: [] }],
    },
    transform: (doc) => {
      if (!documented(doc.url)) return { schema: { ...doc.schema, hide: true }, url: doc.url };
      return zodTransform(doc);
    },
    transformObject: jsonSchemaTransformObject,
  });
}

/** Registers the UI and the document's routes (/docs, /docs/json, /docs/yaml, /docs/static/*) in `scope`. */
export async function registerApiDocsUi(scope: FastifyInstance): Promise<void> {
  await scope.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    // The app's own CSP (src/http/web.ts: scripts and styles from 'self') fits the UI's files.
    staticCSP: false,
    uiConfig: { docExpansion: 'list', deepLinking: true },
  });
}
