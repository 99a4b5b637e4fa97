/** A step's own wording previewed live through the API, with merge-field errors by field (issue 14, point 5). */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import type { Services } from '../../src/services';
import { suiteSetup } from './fixtures';

let s: Services;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };
let invoiceId: string;

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, tenantId, auth } = suite);
  [{ id: invoiceId }] = rowsOf<{ id: string }>(
    await s.db.execute(sql`select id from invoices where tenant_id = ${tenantId}::uuid and number = 'MID-O'`),
  ) as [{ id: string }];
}, 120_000);

const preview = (draft: object) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${tenantId}/dunning/preview`,
    headers: auth,
    payload: { invoice: invoiceId, sequence: 'standard', step: 1, draft },
  });

describe('editable wording in the sequence editor', () => {
  it('previews a draft subject and body with the merge fields filled in', async () => {
    const r = await preview({
      offsetDays: 1,
      tone: 'neutral',
      copy: {
        subject: 'Invoice {{invoice_list}} ({{overdue_total}})',
        body: 'Dear {{contact}},\n\nIt is {{days_overdue}} days late.',
      },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().subject).toBe('Invoice MID-O ($800.00)');
    expect(r.json().text).toContain('It is 15 days late.');
  });

  it('an unknown merge field is an error on that field, and nothing is stored', async () => {
    const r = await preview({ offsetDays: 1, tone: 'neutral', copy: { body: 'Pay {{amount}} now' } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.details).toEqual([
      { field: 'draft.copy.body', message: expect.stringMatching(/^unknown merge field \{\{amount\}\}/) },
    ]);
  });
});
