/**
 * The unsubscribe link of a message that was never sent (a held catch-up statement a reviewer opened with
 * "Show email"): the POST unsubscribed the debtor, the re-plan in the same transaction withdrew (deleted) the
 * message, and the answer, looking the message up afterwards, was "This unsubscribe link is not valid" (404) —
 * for an unsubscribe that had happened. The page now says what happened. (Sending off, as before go-live: the
 * re-plan then replaces every unsent message.)
 */

import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { messagesOf, setup } from './fixtures';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenantId: string;
let fixture: Awaited<ReturnType<typeof setup>>;
const t = suiteTestApp({
  services: async () => {
    fixture = await setup({ live: false });
    return fixture.s;
  },
});
beforeAll(async () => {
  ({ services: s, app, auth } = t);
  ({ tenantId } = fixture);
}, 120_000);

describe('unsubscribe from a held message', () => {
  it('answers "unsubscribed" when the unsubscribe withdrew the message it came from', async () => {
    await planTenant(s, tenantId);
    const held = (await messagesOf(s, tenantId)).find((m) => m.status === 'awaiting_approval');
    expect(held, 'a held catch-up statement').toBeDefined();
    const rendered = await app.inject({
      url: `/api/v1/tenants/${tenantId}/dunning/messages/${held!.id}/rendered`,
      headers: auth,
    });
    const token = /\/u\/([A-Za-z0-9_.-]+)/.exec(rendered.json().html as string)![1]!;
    const post = await app.inject({
      method: 'POST',
      url: `/u/${token}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(post.body).toContain('You are unsubscribed');
    expect(post.statusCode).toBe(200);
    const r = await planTenant(s, tenantId);
    expect(r.decisions.find((d) => d.customerId === held!.customerId)?.code).toBe('opted_out');
  });
});
