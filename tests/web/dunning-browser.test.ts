/**
 * The dunning pages in real Chromium: sign in, import a CSV ledger with overdue invoices, score and plan (services
 * and POST dunning/plan), change a step's tone on Sequences and see the preview follow before saving, approve a
 * held message on Approvals, see it in the dashboard's "Sending today" on its day, and find it sent in Messages.
 * No workers run here: the approved message's send job is not picked up, so the test calls sendMessage() directly —
 * the same function the dunning-send job runs (outbox transport, as without RESEND_API_KEY). Screenshots 09–12 and
 * dashboard-today go to tests/artifacts/screenshots/. Skipped without Chromium.
 */
import { sql } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock';
import { localParts, zonedInstant } from '../../src/dunning/local-time';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { createTestServices } from '../helpers/services';
import { type BrowserRig, hasChromium, signIn, signInAndPlan, startBrowserRig } from './browser-helpers';

/** Every step waits for a reviewer, so planning leaves messages in awaiting_approval. */
const heldPolicy = {
  defaultSequenceId: 'standard',
  sequences: [
    {
      id: 'standard',
      name: 'Standard',
      steps: [
        { offsetDays: 1, tone: 'friendly', approval: { type: 'always' } },
        { offsetDays: 10, tone: 'neutral', approval: { type: 'always' } },
        { offsetDays: 30, tone: 'firm', approval: { type: 'always' } },
      ],
    },
  ],
  rules: [],
};

interface Msg {
  id: string;
  status: string;
  sendAt: string;
  to: string[];
}

describe.skipIf(!hasChromium)('dunning pages in Chromium', () => {
  // Monday 2013-07-01, 14:00 UTC: inside the default business hours.
  const clock = new ManualClock('2013-07-01T14:00:00Z');
  let s: Services;
  let rig: BrowserRig;
  let page: Page;
  let auth: { authorization: string };
  let tenantId = '';
  const api = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) =>
    rig.app.inject({
      method,
      url: `/api/v1/tenants/${tenantId}/dunning${url}`,
      headers: auth,
      payload: payload as object,
    });

  beforeAll(async () => {
    s = await createTestServices({ clock, env: { MAIL_FROM: 'Acme Billing <billing@acme.example>' } });
    rig = await startBrowserRig(s);
    page = rig.page;
  }, 120_000);

  afterAll(async () => {
    await rig?.close();
    await s?.close();
  });

  it('signs in, imports an overdue ledger, scores and plans with a held policy', async () => {
    ({ tenantId, auth } = await signInAndPlan(rig, s, {
      policy: heldPolicy,
      // C0 has no reachable address: it goes to the call list.
      beforePlan: async (t) => {
        await s.db.execute(
          sql`update customers set emails = '{}' where tenant_id = ${t}::uuid and external_id = 'C0'`,
        );
      },
    }));
    const held = (await api('GET', '/messages?status=awaiting_approval')).json().items as Msg[];
    expect(held.length).toBeGreaterThan(0);
    const tasks = (await api('GET', '/tasks')).json().items as { title: string }[];
    expect(tasks.map((t) => t.title)).toEqual(['C0 has no email address']);
  }, 120_000);

  it('Sequences: a field error is shown next to its field; a tone change shows in the preview before it is saved', async () => {
    await page.getByRole('link', { name: 'Sequences' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sequences' }).waitFor();
    expect(await page.title()).toBe('Sequences · Duely');
    const tone = page.getByTestId('preview-tone');
    await expect.poll(() => tone.textContent(), { timeout: 15_000 }).toBe('friendly');
    const frame = page.frameLocator('iframe.email-frame');
    const before = (await frame.locator('body').textContent()) ?? '';
    expect(before.length).toBeGreaterThan(50);
    const subjectBefore = await page.getByTestId('preview-subject').textContent();

    // A duplicate offset: the API's message appears at step 2's "days" field.
    await page.getByLabel('Days from due date (step 2)').fill('1');
    await page.getByRole('button', { name: 'Save policy' }).click();
    const offset2 = page.getByLabel('Days from due date (step 2)');
    await expect.poll(() => offset2.getAttribute('aria-invalid')).toBe('true');
    const errId = (await offset2.getAttribute('aria-describedby')) ?? '';
    expect(await page.locator(`[id="${errId}"]`).textContent()).toContain('duplicate offset 1');
    // The browser logs the refused PUT (400); that one is expected.
    expect(rig.consoleErrors.splice(0)).toEqual([expect.stringContaining('400 (Bad Request)')]);
    await page.getByRole('button', { name: 'Discard changes' }).click();
    expect(await offset2.inputValue()).toBe('10');

    // Tone of step 1: friendly → firm. The preview renders the unsaved edit (POST dunning/preview) before any save.
    const source = page.getByTestId('preview-source');
    const slow = { timeout: 10_000 }; // the draft preview waits for a 300 ms pause in the edits
    await expect.poll(() => source.textContent(), slow).toBe('Saved version');
    await page.getByLabel('Tone (step 1)').selectOption('firm');
    await expect.poll(() => tone.textContent(), slow).toBe('firm');
    await expect.poll(() => source.textContent(), slow).toBe('Preview of unsaved changes');
    await expect.poll(async () => (await frame.locator('body').textContent()) ?? '', slow).not.toBe(before);
    const subjectDraft = await page.getByTestId('preview-subject').textContent();
    expect(subjectDraft).not.toBe(subjectBefore);
    expect((await api('GET', '/policy')).json().version).toBe(1); // nothing saved yet
    await rig.shot('09-sequences-draft');
    // A draft the policy rules refuse is not previewed; the preview says which field and why.
    const offset1 = page.getByLabel('Days from due date (step 1)');
    await offset1.fill('400');
    const draftErrors = page.getByTestId('preview-draft-errors');
    await expect
      .poll(async () => ((await draftErrors.count()) ? await draftErrors.textContent() : ''), slow)
      .toContain('offsetDays: at most 365 days after the due date');
    expect(rig.consoleErrors.splice(0)).toEqual([expect.stringContaining('400 (Bad Request)')]);
    await offset1.fill('1');
    await expect.poll(() => source.textContent(), slow).toBe('Preview of unsaved changes');
    expect(await page.getByTestId('preview-subject').textContent()).toBe(subjectDraft);

    // Saved, the preview is the saved version again, and shows the same email the draft did.
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Saved as version 2.').waitFor();
    await expect.poll(() => source.textContent(), slow).toBe('Saved version');
    expect(await tone.textContent()).toBe('firm');
    expect(await page.getByTestId('preview-subject').textContent()).toBe(subjectDraft);
    const saved = (await api('GET', '/policy')).json();
    expect(saved.version).toBe(2);
    expect(saved.policy.sequences[0].steps[0].tone).toBe('firm');
    console.info(`preview subject: "${subjectBefore}" → "${subjectDraft}"`);
    await rig.shot('09-sequences');
  });

  let approvedId = '';

  it('Approvals: edit the subject, approve; the message is queued', async () => {
    await page.getByRole('link', { name: 'Approvals' }).click();
    const cards = page.getByTestId('approval');
    await cards.first().waitFor();
    const count = await cards.count();
    const card = cards.first();
    expect(await card.textContent()).toContain('always needs approval');
    await card.getByRole('button', { name: /^Edit/ }).click();
    await card.getByLabel("Subject (blank = the template's)").fill('About your account with Acme Corp');
    await card.getByRole('button', { name: 'Save edits' }).click();
    await card.getByText('Subject: About your account with Acme Corp').waitFor();
    await card.locator('iframe.email-frame').waitFor();
    expect(await card.locator('iframe.email-frame').getAttribute('sandbox')).toBe('');
    await rig.shot('10-approvals');
    const queuedBefore = ((await api('GET', '/messages?status=queued')).json().items as Msg[]).map(
      (m) => m.id,
    );
    const heading = page.locator('#approvals-h');
    expect(await heading.textContent()).toBe(`Waiting for approval (${count})`);
    await card.getByRole('button', { name: /^Approve/ }).click();
    await expect.poll(() => cards.count()).toBe(count - 1);
    // The count follows the card that went away (it stayed at the count before).
    expect(await heading.textContent()).toBe(`Waiting for approval (${count - 1})`);
    // Focus lands on the section, not on <body>, when the card goes away.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('approvals-h');
    const queued = (await api('GET', '/messages?status=queued')).json().items as Msg[];
    const approved = queued.filter((m) => !queuedBefore.includes(m.id));
    expect(approved).toHaveLength(1);
    approvedId = approved[0]!.id;
  });

  it("Dashboard: on the approved message's day, 'Sending today' lists it, with held and sent counts", async () => {
    // The planner picked a send time in the tenant's business hours, usually the next morning: go to that day's
    // early morning in the tenant's zone (a later day ends the 12-hour session, so sign in again).
    const m = (await api('GET', `/messages/${approvedId}`)).json() as Msg;
    const tz = (
      await rig.app.inject({ method: 'GET', url: `/api/v1/tenants/${tenantId}/settings`, headers: auth })
    ).json().timezone as string;
    const sendDay = localParts(new Date(m.sendAt), tz).date;
    if (sendDay > localParts(clock.now(), tz).date) {
      clock.set(zonedInstant(sendDay, 6, 0, tz).toISOString());
      await signIn(page, s, rig.base);
    } else {
      await page.getByRole('link', { name: 'Dashboard' }).click();
    }
    const today = (await api('GET', '/today')).json() as {
      date: string;
      toSend: { id: string; customer: { id: string; name: string } }[];
      held: number;
      sentToday: number;
    };
    expect(today.date).toBe(sendDay);
    expect(today.toSend.map((t) => t.id)).toContain(approvedId);

    const card = page.getByTestId('sending-today');
    await card.getByRole('heading', { name: 'Sending today' }).waitFor();
    const rows = card.getByTestId('today-row');
    await expect.poll(() => rows.count()).toBe(today.toSend.length);
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-message-id')));
    expect(ids).toEqual(today.toSend.map((t) => t.id));
    expect(await card.getByTestId('today-to-send').textContent()).toBe(`${today.toSend.length} to send`);
    expect(await card.getByTestId('today-held').textContent()).toContain(`${today.held} held for approval`);
    expect(await card.getByTestId('today-sent').textContent()).toBe('0 sent today');
    const approvedRow = card.locator(`[data-message-id="${approvedId}"]`);
    expect(await approvedRow.textContent()).toContain('approved');
    // Each row links to its customer's page.
    const first = today.toSend.find((t) => t.id === approvedId)!;
    const link = approvedRow.getByRole('link', { name: first.customer.name });
    expect(await link.getAttribute('href')).toBe(`/customers/${first.customer.id}`);
    // The risk cards sit beside it (the ledger was scored in the first test).
    await page.getByTestId('customers-at-risk').locator('li').first().waitFor();
    await rig.shot('dashboard-today');

    await link.click();
    await page.getByRole('heading', { level: 1, name: first.customer.name }).waitFor();
  });

  it('Call list: its own page; a card titled by customer shows talking points; "Done" closes the task', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Call list' }).click();
    const task = page.getByTestId('task');
    await task.getByText('C0 has no email address').waitFor();
    const heading = page.getByRole('heading', { name: /^Open tasks/ });
    expect(await heading.textContent()).toBe('Open tasks (1)');
    expect(await task.textContent()).toContain('Open items');
    expect(await task.textContent()).toContain('no email on file');
    await task.getByLabel('Note (optional)').fill('Called; new AP contact coming');
    await task.getByRole('button', { name: 'Done' }).click();
    await page.getByText('No open calls or follow-ups.').waitFor();
    // The count follows the closed task (it said "Open tasks (1)" above an empty list).
    expect(await heading.textContent()).toBe('Open tasks (0)');
    expect((await api('GET', '/tasks')).json().items).toEqual([]);
    expect((await api('GET', '/tasks?status=done')).json().items[0].note).toBe(
      'Called; new AP contact coming',
    );
  });

  it('Messages: the approved message, sent through the outbox, with its rendered email and text', async () => {
    // No workers in this test: run what the dunning-send job runs, at the message's send time.
    const m = (await api('GET', `/messages/${approvedId}`)).json() as Msg;
    if (new Date(m.sendAt) > clock.now()) clock.set(m.sendAt);
    expect(await sendMessage(s, approvedId)).toMatchObject({
      outcome: 'sent',
      providerId: `outbox:${approvedId}`,
    });
    // The send time may be days later, past the 12-hour session: sign in again then.
    await signIn(page, s, rig.base);

    await page.getByRole('link', { name: 'Messages' }).click();
    await page.getByLabel('Status').selectOption('sent');
    const rows = page.locator('[data-testid="messages-table"] tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('sent');
    expect(await rows.first().textContent()).toContain('(outbox)');
    await rows.first().getByRole('button', { name: /^Open/ }).click();
    const detail = page.getByTestId('message-detail');
    await detail.getByRole('heading', { name: /About your account with Acme Corp/ }).waitFor();
    const frame = detail.frameLocator('iframe.email-frame');
    await expect.poll(async () => (await frame.locator('body').textContent()) ?? '').toContain('Acme Corp');
    await page.getByLabel('Status').selectOption('');
    await expect.poll(() => rows.count()).toBeGreaterThan(1);
    await rows.first().getByRole('button', { name: /^Open/ }).click();
    await detail.waitFor();
    await rig.shot('11-messages');
    // Text version of the open message.
    await detail.getByRole('button', { name: 'Text' }).click();
    expect(((await detail.getByTestId('email-text').textContent()) ?? '').length).toBeGreaterThan(50);
    // Back on the dashboard it counts as sent today, and no longer as to send.
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const card = page.getByTestId('sending-today');
    await card.getByTestId('today-sent').waitFor();
    await expect
      .poll(() => card.getByTestId('today-sent').textContent(), { timeout: 10_000 })
      .toBe('1 sent today');
    expect(await card.locator(`[data-message-id="${approvedId}"]`).count()).toBe(0);
    expect(rig.consoleErrors).toEqual([]);
  });

  it('fits a phone-sized screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [name, heading] of [
      ['sequences', 'Sequences'],
      ['approvals', 'Approvals'],
    ] as const) {
      await page.getByRole('link', { name: heading }).click();
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await page.locator('iframe.email-frame, [data-testid="approval"]').first().waitFor();
      if (name === 'sequences') {
        const body = page.frameLocator('iframe.email-frame').locator('body');
        await expect
          .poll(async () => ((await body.textContent()) ?? '').length, { timeout: 10_000 })
          .toBeGreaterThan(50);
      }
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, name).toBeLessThanOrEqual(0);
      await rig.shot(`12-${name}-mobile`);
    }
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('Approvals: a message changed since the page loaded: approve is refused with why, the card shows it as it reads now', async () => {
    await page.getByRole('link', { name: 'Approvals' }).click();
    const cards = page.getByTestId('approval');
    await cards.first().waitFor();
    const count = await cards.count();
    const card = cards.first();
    expect(await card.textContent()).not.toContain('· edited');
    // Another reviewer adds an introduction to every waiting message while this page is open.
    const waiting = (await api('GET', '/messages?status=awaiting_approval')).json().items as Msg[];
    for (const m of waiting) {
      const r = await rig.app.inject({
        method: 'PATCH',
        url: `/api/v1/tenants/${tenantId}/dunning/messages/${m.id}`,
        headers: auth,
        payload: { intro: 'As discussed on the phone.' },
      });
      expect(r.statusCode, r.body).toBe(200);
    }
    await card.getByRole('button', { name: /^Approve/ }).click();
    await card.getByText(/changed since you viewed it/).waitFor();
    expect(await cards.count()).toBe(count);
    // The card now shows the edit; approving what it shows goes.
    await card.getByText(/· edited/).waitFor();
    await card.getByRole('button', { name: /^Approve/ }).click();
    await expect.poll(() => cards.count()).toBe(count - 1);
  });
});
