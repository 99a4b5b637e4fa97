/**
 * GET /health is public (load balancers call it without credentials), so when the database or the queue does not
 * answer it says so in its own words, never the driver's: those name the database, its host, port or user
 * (`database "duely" does not exist`, `connect ECONNREFUSED 10.0.4.7:5432`, `password authentication failed for user
 * "duely"`), which a stranger has no business reading. The server log keeps them.
 */
import { expect, it } from 'vitest';
import { pingDatabase } from '../../src/db/queries/health';
import { buildTestApp } from '../helpers/app';

it('a database that went away is a 503 saying so, without the driver’s messages', async () => {
  const { app, services } = await buildTestApp({ token: false });
  try {
    expect((await app.inject('/health')).statusCode).toBe(200);
    await services.dbh.close();
    // What the drivers say now (drizzle wraps the database's own error as its cause).
    const raw: string[] = [];
    await pingDatabase(services.db).catch((err: Error) => {
      raw.push(err.message, String((err.cause as Error | undefined)?.message ?? ''));
    });
    raw.push((await services.queue.health()).error ?? '');
    const said = raw.filter((m) => m.trim() !== '');
    expect(said.length).toBeGreaterThan(0);

    const r = await app.inject('/health');
    expect(r.statusCode).toBe(503);
    const body = r.json();
    expect(body).toMatchObject({ status: 'degraded', database: { ok: false }, queue: { ok: false } });
    for (const error of [body.database.error, body.queue.error]) {
      expect(error).toMatch(/server log/);
      for (const m of said) expect(error).not.toContain(m.trim());
    }
  } finally {
    await app.close();
    // The database is closed already (PGlite refuses a second close).
    await services.close().catch(() => {});
  }
});
