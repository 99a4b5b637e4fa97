/**
 * A tenant is addressed by its id or its slug, and a connected company's tenant is named (and slugged) after the
 * company's name at the provider — which whoever owns that company chooses. Named exactly like another tenant's id,
 * its slug was that id, and `/tenants/<id>` then found either of the two (one row of `id = ref or slug = ref`, in no
 * order): the other company's token got 403 on its own tenant, and an operator's request (an import, settings)
 * could land in the look-alike. A slug never has the shape of an id, and an id always finds its own tenant.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { issueApiToken } from '../../src/auth/api-tokens';
import { createTenant, ensureTenant, findTenant } from '../../src/db/queries/tenants';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';

let s: Services;
const t = suiteTestApp({ token: false });
beforeAll(() => {
  s = t.services;
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

describe('a company named like another tenant’s id', () => {
  it('gets a slug that is not an id, and the id still finds its own tenant (for the API too)', async () => {
    const victim = await createTenant(s.db, 'Victim Books', 'quickbooks');
    for (const spelling of [victim.id, victim.id.toUpperCase(), ` ${victim.id} `]) {
      const lookalike = await createTenant(s.db, spelling, 'quickbooks');
      expect(lookalike.slug).not.toMatch(UUID);
      expect(lookalike.slug).not.toBe(victim.id);
      expect((await findTenant(s.db, victim.id))?.id).toBe(victim.id);
    }
    // A CSV tenant addressed by such a name (an operator's upload to /tenants/<uuid>/imports) likewise.
    const csvLookalike = await ensureTenant(s.db, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'csv');
    expect(csvLookalike.slug).not.toMatch(UUID);
    const token = (await issueApiToken(s.db, 'victim', victim.id)).token;
    const r = await t.app.inject({
      url: `/api/v1/tenants/${victim.id}/settings`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(r.statusCode, r.body).toBe(200);
  });
});
