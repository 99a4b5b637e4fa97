/**
 * The OpenAPI document at /docs/json is generated from the route contracts: every /api/v1 route must appear in it
 * with its path parameters, query, body and responses, so the document cannot silently go empty (a route that
 * loses its schema fails here). /docs is for signed-in callers only, and its UI is served from the package.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueApiToken } from '../../src/auth/api-tokens';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';

/** Routes that change state without a request body (the path names the action). Listed, so a forgotten body
 * schema on any other write route fails. */
const NO_BODY = new Set(['POST /api/v1/session/logout', 'POST /api/v1/session/logout-all']);

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };

type Op = {
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};

const testApp = suiteTestApp();
beforeAll(async () => {
  ({ services: s, app } = testApp);
  await app.ready();
  auth = { authorization: `Bearer ${(await issueApiToken(s.db, 'operator')).token}` };
}, 120_000);

describe('GET /docs/json', () => {
  it('is for signed-in callers, like the API', async () => {
    expect((await app.inject({ url: '/docs/json' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/docs' })).statusCode).toBe(401);
  });

  it('describes every /api/v1 route with its request and response schemas', async () => {
    const r = await app.inject({ url: '/docs/json', headers: auth });
    expect(r.statusCode).toBe(200);
    const doc = r.json() as { openapi: string; paths: Record<string, Record<string, Op>> };
    expect(doc.openapi).toMatch(/^3\./);
    const routes = app.routeAuth.filter((x) => x.url.startsWith('/api/v1/') && x.method !== 'HEAD');
    expect(routes.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const route of routes) {
      const name = `${route.method} ${route.url}`;
      const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
      const op = doc.paths[path]?.[route.method.toLowerCase()];
      if (!op) {
        problems.push(`${name}: missing`);
        continue;
      }
      const params = [...route.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]);
      for (const p of params) {
        if (!op.parameters?.some((x) => x.in === 'path' && x.name === p)) problems.push(`${name}: path ${p}`);
      }
      // Every 2xx answer has a schema, except 204 (no content).
      const ok = Object.entries(op.responses ?? {}).filter(([code]) => /^2/.test(code));
      const described = ([code, v]: [string, (typeof ok)[number][1]]) =>
        code === '204' || (v.content !== undefined && Object.keys(v.content).length > 0);
      if (ok.length === 0 || !ok.every(described)) {
        problems.push(`${name}: no 2xx response schema`);
      }
      if (!op.responses?.['4XX'] && !op.responses?.['4xx']) problems.push(`${name}: no error response`);
      if (['POST', 'PUT', 'PATCH'].includes(route.method) && !NO_BODY.has(name) && !op.requestBody) {
        problems.push(`${name}: no request body schema`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('names the fields of a list answer (not an empty object)', async () => {
    const doc = (await app.inject({ url: '/docs/json', headers: auth })).json();
    const list = doc.paths['/api/v1/tenants/{tenant}/invoices'].get;
    // JSON, or the CSV download (format=csv).
    const schema = list.responses['200'].content['application/json'].schema;
    const json = schema.anyOf.find((s: { type: string }) => s.type === 'object');
    expect(Object.keys(json.properties)).toEqual(expect.arrayContaining(['items', 'total', 'nextCursor']));
    const item = json.properties.items.items;
    expect(Object.keys(item.properties)).toEqual(
      expect.arrayContaining([
        'number',
        'customerName',
        'balanceMinor',
        'paidDate',
        'riskBand',
        'lastReminderAt',
      ]),
    );
    const query = list.parameters
      .filter((p: { in: string }) => p.in === 'query')
      .map((p: { name: string }) => p.name);
    expect(query).toEqual(expect.arrayContaining(['q', 'sort', 'status', 'cursor', 'format']));
  });
});

describe('GET /docs', () => {
  it('serves Swagger UI and its files from the package to a signed-in caller', async () => {
    const page = await app.inject({ url: '/docs', headers: auth });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('swagger-ui-bundle.js');
    const js = await app.inject({ url: '/docs/static/swagger-ui-bundle.js', headers: auth });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    const init = await app.inject({ url: '/docs/static/swagger-initializer.js', headers: auth });
    expect(init.body).toContain("url: resolveUrl('./json')");
  });
});
