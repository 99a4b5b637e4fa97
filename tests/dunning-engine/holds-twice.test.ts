/**
 * A hold asked for twice — a double click, two collectors at once — is one hold and a clear answer, never a
 * duplicate or a 500 (found by firing the same request in parallel at a running server):
 * - a second dispute of an invoice that has an open one is a 409 naming it: two open disputes meant resolving the
 *   one on screen left the invoice silently held (the bulk action already reported "already disputed");
 * - concurrent PUTs of one customer's (or invoice's) override all succeed, the last one winning: they raced to
 *   insert and all but one failed on the unique index as a 500.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import { disputes, dunningOverrides } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { customerId, suiteSetup } from './fixtures';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenantId: string;
const base = () => `/api/v1/tenants/${tenantId}/dunning`;

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, auth, tenantId } = suite);
}, 120_000);

const invoiceOf = async (externalId: string) =>
  rowsOf<{ id: string }>(
    await s.db.execute(
      sql`select id from invoices where tenant_id = ${tenantId} and external_id = ${externalId}`,
    ),
  )[0]!.id;
const openDisputesOf = async (invoiceId: string) =>
  s.db
    .select()
    .from(disputes)
    .where(and(eq(disputes.invoiceId, invoiceId), isNull(disputes.resolvedAt)));
const dispute = (invoiceId: string, reason: string) =>
  app.inject({ method: 'POST', url: `${base()}/disputes`, headers: auth, payload: { invoiceId, reason } });

describe('a dispute asked for twice', () => {
  it('the second is a 409 naming the open one; the invoice has one open dispute', async () => {
    const inv = await invoiceOf('SLOW-O');
    const first = await dispute(inv, 'wrong quantity');
    expect(first.statusCode, first.body).toBe(201);
    const second = await dispute(inv, 'wrong price');
    expect(second.statusCode, second.body).toBe(409);
    expect(second.json().error).toMatchObject({ code: 'already_disputed' });
    expect(second.json().error.message).toContain(first.json().id);
    expect((await openDisputesOf(inv)).map((d) => d.reason)).toEqual(['wrong quantity']);
    // Once resolved, the invoice can be disputed again.
    const resolved = await app.inject({
      method: 'PATCH',
      url: `${base()}/disputes/${first.json().id}`,
      headers: auth,
      payload: { resolved: true },
    });
    expect(resolved.statusCode).toBe(200);
    expect((await dispute(inv, 'again')).statusCode).toBe(201);
  });

  it('at once: one 201, the rest 409, one open dispute', async () => {
    const inv = await invoiceOf('MID-O');
    const answers = await Promise.all([1, 2, 3, 4].map((i) => dispute(inv, `click ${i}`)));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409, 409, 409]);
    expect(await openDisputesOf(inv)).toHaveLength(1);
  });
});

describe('an override written twice at once', () => {
  it('every PUT answers 200 and the customer (or invoice) has one override', async () => {
    const customer = await customerId(s, 'RELY');
    const invoice = await invoiceOf('RELY-O');
    const targets: { customerId?: string; invoiceId?: string }[] = [
      { customerId: customer },
      { invoiceId: invoice },
    ];
    for (const target of targets) {
      const answers = await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          app.inject({
            method: 'PUT',
            url: `${base()}/overrides`,
            headers: auth,
            payload: { ...target, note: `click ${i}` },
          }),
        ),
      );
      expect(
        answers.map((a) => a.statusCode),
        answers.map((a) => a.body).join('\n'),
      ).toEqual([200, 200, 200, 200, 200]);
      const rows = await s.db
        .select()
        .from(dunningOverrides)
        .where(
          target.customerId
            ? eq(dunningOverrides.customerId, target.customerId)
            : eq(dunningOverrides.invoiceId, target.invoiceId!),
        );
      expect(rows).toHaveLength(1);
    }
  });
});
