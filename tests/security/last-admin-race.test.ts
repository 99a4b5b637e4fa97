/**
 * Two admins turning each other into viewers (or off, or out) at the same moment: each change alone keeps an admin,
 * both together left the company with none, since each checked the other was still an admin before either wrote.
 */
import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createUser, removeUser, updateUser } from '../../src/auth/users';
import { ManualClock } from '../../src/clock';
import { users } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

const clock = new ManualClock('2026-11-27T10:00:00Z');
let s: Services;
let tenantId: string;

const testApp = suiteTestApp({ clock, token: 'operator' });
beforeAll(async () => {
  s = testApp.services;
  const up = await testApp.app.inject({
    method: 'POST',
    url: '/api/v1/tenants/acme/imports',
    headers: { authorization: `Bearer ${testApp.token}`, 'content-type': 'text/csv' },
    payload: csv([['ACME', 'A1', '2026-09-02', '2026-10-01', '100.00', 'USD', '', 'email', 'US']]),
  });
  expect(up.statusCode).toBe(201);
  tenantId = up.json().tenant.id;
});

const activeAdmins = async () =>
  (
    await s.db
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.tenantId, tenantId), eq(users.role, 'admin'), eq(users.status, 'active')))
  ).length;

async function twoAdmins(tag: string) {
  // Earlier rounds' survivors step aside so that exactly these two are the company's admins.
  await s.db.update(users).set({ role: 'viewer' }).where(eq(users.tenantId, tenantId));
  const make = (who: string) =>
    createUser(s.db, { tenantId, email: `${who}-${tag}@acme.example`, role: 'admin', status: 'active' });
  return [await make('ada'), await make('bob')] as const;
}

describe('the last active admin stays when two admins act on each other at once', () => {
  const changes = {
    'demote each other': (id: string) => updateUser(s.db, tenantId, id, { role: 'viewer' }, clock.now()),
    'disable each other': (id: string) => updateUser(s.db, tenantId, id, { status: 'disabled' }, clock.now()),
    'remove each other': (id: string) =>
      removeUser(s.db, tenantId, id, { name: 'an admin', now: clock.now() }),
  };
  for (const [name, change] of Object.entries(changes)) {
    it(name, async () => {
      const [ada, bob] = await twoAdmins(name.split(' ')[0]!);
      const results = await Promise.allSettled([change(bob.id), change(ada.id)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({ code: 'last_admin' });
      expect(await activeAdmins()).toBe(1);
    });
  }
});
