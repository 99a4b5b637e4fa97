/** The test-app builder (tests/helpers/app.ts) itself: what it hands out works, and it cleans up where asked. */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app';
import { createTestServices } from '../helpers/services';

describe('buildTestApp', () => {
  let fromFirstTest: TestApp | undefined;

  it('builds services, the app and an operator token; closes at the end of the test that asked', async (ctx) => {
    const t = await buildTestApp({ test: ctx, token: 'builder' });
    fromFirstTest = t;
    const tenants = await t.app.inject({ url: '/api/v1/tenants', headers: t.auth });
    expect(tenants.statusCode).toBe(200);
    const denied = await t.app.inject({ url: '/api/v1/tenants' });
    expect(denied.statusCode).toBe(401);
    await expect(t.services.db.execute(sql`select 1`)).resolves.toBeDefined();
  });

  it('the previous test’s app and database are closed', async () => {
    expect(fromFirstTest).toBeDefined();
    await expect(fromFirstTest!.services.db.execute(sql`select 1`)).rejects.toThrow();
  });

  it('token: false issues no token', async (ctx) => {
    const t = await buildTestApp({ test: ctx, token: false, queue: false });
    expect(t.auth).toEqual({});
    expect((await t.app.inject({ url: '/api/v1/tenants' })).statusCode).toBe(401);
  });

  it('keepServices closes only the app; a sandbox stops after the services close', async () => {
    const services = await createTestServices({ queue: false });
    const kept = await buildTestApp({ services, keepServices: true, token: false });
    await kept.close();
    await expect(services.db.execute(sql`select 1`)).resolves.toBeDefined();
    const order: string[] = [];
    const sandbox = {
      stop: async () => {
        order.push(
          `sandbox stop, database open: ${await services.db.execute(sql`select 1`).then(
            () => true,
            () => false,
          )}`,
        );
      },
    };
    const owned = await buildTestApp({ services, sandbox, token: false });
    await owned.close();
    expect(order).toEqual(['sandbox stop, database open: false']);
  });
});
