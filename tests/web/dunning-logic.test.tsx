/** The dunning pages' logic outside the browser: policy field errors, amounts, the sandboxed email frame. */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import {
  type DunningMessage,
  EmailFrame,
  MessageWhy,
  type Snapshot,
  sequenceChoice,
  stepLabel,
} from '../../src/web/components/dunning';
import { ApiError } from '../../src/web/lib/api';
import type { SendingTodayAnswer } from '../../src/web/lib/contracts';
import { reloadChanged, sendTimeWords } from '../../src/web/pages/Approvals';
import { TodayCounts } from '../../src/web/pages/Dashboard';
import {
  copyPatch,
  fieldErrors,
  ledgerToday,
  parseMajor,
  previewInvoiceFor,
} from '../../src/web/pages/Sequences';

describe('Sequences page', () => {
  it('maps the API validation details to sequence fields, and the rest to a general list', () => {
    const err = new ApiError(400, 'invalid_request', 'Invalid policy', [
      { field: 'policy.sequences[0].steps[1].offsetDays', message: 'duplicate offset 1' },
      { field: 'policy.sequences[0].steps[0].tone', message: 'a final notice must be the last step' },
      { field: 'policy.defaultSequenceId', message: "no sequence with id 'x'" },
      { field: 'policy', message: 'at least one sequence' },
    ]);
    const { byField, other } = fieldErrors(err);
    expect(byField.get('sequences[0].steps[1].offsetDays')).toEqual(['duplicate offset 1']);
    expect(byField.get('sequences[0].steps[0].tone')).toEqual(['a final notice must be the last step']);
    expect(other).toEqual(["defaultSequenceId: no sequence with id 'x'", 'at least one sequence']);
    expect(fieldErrors(new Error('network')).byField.size).toBe(0);
  });

  it('parses amounts into exact minor units by currency', () => {
    expect(parseMajor('1200.5', 'USD')).toBe(120050);
    expect(parseMajor('0.29', 'USD')).toBe(29);
    expect(parseMajor('10000', 'USD')).toBe(1000000);
    expect(parseMajor('500', 'JPY')).toBe(500);
    expect(parseMajor('0', 'USD')).toBeNull();
    expect(parseMajor('-5', 'USD')).toBeNull();
    expect(parseMajor('1,000', 'USD')).toBe(100000); // the kernel's typed-amount rule: grouping allowed
    expect(parseMajor('10.999', 'USD')).toBeNull(); // was truncated to 10.99
  });
});

describe('EmailFrame', () => {
  it('renders email HTML in a fully sandboxed srcdoc frame', () => {
    const html = renderToStaticMarkup(<EmailFrame html="<p>Hi<script>alert(1)</script></p>" title="Email" />);
    expect(html).toMatch(/^<iframe class="email-frame" sandbox="" srcDoc="/);
    expect(html).toContain('title="Email"');
  });
});

describe('copyPatch (a step’s own wording)', () => {
  it('keeps what was typed, and drops the wording when both parts are cleared', () => {
    const one = copyPatch(undefined, { subject: 'Invoice {{invoice_list}}' });
    expect(one).toEqual({ subject: 'Invoice {{invoice_list}}' });
    expect(copyPatch(one, { body: 'Dear {{contact}}' })).toEqual({
      subject: 'Invoice {{invoice_list}}',
      body: 'Dear {{contact}}',
    });
    expect(copyPatch(one, { subject: '  ' })).toBeUndefined();
  });
});

describe('MessageWhy (the approver’s “why” block)', () => {
  const message = (snapshot: Snapshot) =>
    ({
      id: 'dm_1',
      stepKey: 'standard:1:0',
      tone: 'neutral',
      invoiceIds: [],
      why: { reason: 'Invoice 4451 is 169 days overdue', approvalReason: null, statusReason: null, snapshot },
    }) as unknown as DunningMessage;
  const text = (snapshot: Snapshot) =>
    renderToStaticMarkup(<MessageWhy m={message(snapshot)} />).replace(/<[^>]+>/g, ' ');

  it('says which day the invoices’ days overdue are counted to (the send date, not the planning day), in words', () => {
    const t = text({
      asOf: '2026-12-06',
      sendDate: '2026-12-07',
      invoices: [
        {
          invoiceId: 'a',
          number: '4451',
          dueDate: '2026-06-20',
          daysOverdue: 170,
          openBalanceMinor: 42937,
          currency: 'USD',
        },
        {
          invoiceId: 'b',
          number: '5634',
          dueDate: '2026-12-06',
          daysOverdue: 1,
          openBalanceMinor: 97021,
          currency: 'USD',
        },
        {
          invoiceId: 'c',
          number: '5815',
          dueDate: '2026-12-27',
          daysOverdue: 0,
          openBalanceMinor: 125105,
          currency: 'USD',
        },
      ],
    });
    // Planned on Dec 6, the invoice due that day is not "1 days overdue": it will be 1 day overdue when sent.
    expect(t).toContain('5634: $970.21 open, due Dec 6, 2026 (1 day overdue on Dec 7, 2026, the send date)');
    expect(t).toContain(
      '4451: $429.37 open, due Jun 20, 2026 (170 days overdue on Dec 7, 2026, the send date)',
    );
    expect(t).toContain('5815: $1,251.05 open, due Dec 27, 2026 ');
    expect(t).not.toMatch(/\b1 days\b/);
  });

  it('without a send date (older messages) keeps the plain count', () => {
    const t = text({
      asOf: '2026-12-06',
      invoices: [
        {
          invoiceId: 'a',
          number: '7',
          dueDate: '2026-12-01',
          daysOverdue: 5,
          openBalanceMinor: 100,
          currency: 'USD',
        },
      ],
    });
    expect(t).toContain('7: $1.00 open, due Dec 1, 2026 (5 days overdue)');
  });

  it('names the step by its place in the sequence, never the internal key; a catch-up as the first contact', () => {
    const seq = { id: 'standard', name: 'High risk', selectedBy: 'risk band high' };
    const t = text({ asOf: '2026-12-06', sequence: seq });
    expect(t).toContain('High risk');
    expect(t).toMatch(/step 2, neutral tone/);
    expect(t).not.toContain('standard:1:0');
    const c = text({ asOf: '2026-12-06', sequence: seq, catchUp: true });
    expect(c).toContain('first contact (catch-up statement), neutral tone');
    expect(c).not.toMatch(/step \d/);
    expect(stepLabel('standard:3:2', false)).toBe('step 4, repeat 2');
    expect(stepLabel('a:b:0:0', false)).toBe('step 1');
  });

  it('says why the customer is on the sequence in words, not "rule 1"', () => {
    const t = text({
      asOf: '2026-12-06',
      sequence: { id: 'standard', name: 'Large accounts', selectedBy: 'rule 1' },
    });
    expect(t.replace(/\s+/g, ' ')).toContain(
      'Large accounts (picked by the first of the rules on Sequences that fits this customer)',
    );
    expect(t).not.toContain('rule 1');
    expect(sequenceChoice('rule 2')).toMatch(/the second of the rules/);
    expect(sequenceChoice('override')).toBe('set for this customer');
    expect(sequenceChoice('default')).toBe('the default sequence');
  });
});

describe('Sending today counts (Dashboard)', () => {
  const data = (sending: 'live' | 'off' | 'paused') =>
    ({
      date: '2026-12-07',
      timezone: 'UTC',
      from: '2026-12-07T00:00:00.000Z',
      to: '2026-12-08T00:00:00.000Z',
      toSend: [],
      toSendCount: 15,
      held: 4,
      sentToday: 0,
      overdue: 0,
      nextSendAt: null,
      sending,
    }) as unknown as SendingTodayAnswer;
  const text = (sending: 'live' | 'off' | 'paused') =>
    renderToStaticMarkup(<TodayCounts data={data(sending)} />)
      .replace(/<[^>]+>/g, '')
      .replace(/\s+/g, ' ');

  it('before go-live and while paused, says nothing is sent and counts what would send, not "to send"', () => {
    const off = text('off');
    expect(off).toContain('Sending is off: nothing is sent until you go live in Settings');
    expect(off).toContain('15 would send (approved or needing no approval)');
    expect(off).not.toContain('to send');
    const paused = text('paused');
    expect(paused).toContain('All sending is paused: nothing is sent until you resume it');
    expect(paused).toContain('15 would send');
    expect(paused).not.toContain('to send');
    // Held counts today's only: named apart from the checklist's "N wait for approval, of all send days".
    expect(off).toContain('4 held for approval, due by today');
  });

  it('live, the counts are what goes out today', () => {
    const live = text('live');
    expect(live).toContain('15 to send');
    expect(live).not.toMatch(/would send|nothing is sent/);
  });

  it('a CSV company whose upload is too old: says why reminders wait and where to upload', () => {
    const reason =
      'The ledger is the upload of Dec 1, 6 days old (reminders wait once it is over 3 days old): upload a newer export to send';
    const html = renderToStaticMarkup(
      <TodayCounts
        data={
          {
            ...data('live'),
            uploadTooOld: { uploadedOn: '2026-12-01', ageDays: 6, maxAgeDays: 3, reason, held: 2 },
          } as SendingTodayAnswer
        }
      />,
    );
    const t = html.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
    expect(t).toContain(
      `${reason} (2 held so far; checked against the new upload as soon as it is in). Upload on Connections.`,
    );
    expect(html).toContain('href="/connections"');
    expect(text('live')).not.toContain('upload');
  });
});

describe('Sequences preview invoice', () => {
  // Today is 2026-12-07: 'old' is 699 days overdue, 'recent' 5, 'soon' falls due in 10 days.
  const rows = [
    { id: 'old', dueDate: '2025-01-07', daysOverdue: 699 },
    { id: 'recent', dueDate: '2026-12-02', daysOverdue: 5 },
    { id: 'soon', dueDate: '2026-12-17', daysOverdue: 0 },
  ];

  it('reads the ledger’s today off an overdue invoice (the service clock), else the given date', () => {
    expect(ledgerToday(rows, '2030-01-01')).toBe('2026-12-07');
    expect(ledgerToday([rows[2]!], '2030-01-01')).toBe('2030-01-01');
  });

  it('previews each step with an invoice it would still be sent for, never the oldest overdue one for all', () => {
    const today = '2026-12-07';
    // A pre-due nudge (3 days before due): only the invoice not yet due.
    expect(previewInvoiceFor(rows, -3, today)).toBe('soon');
    // 10 days after due: the recent one's day (Dec 12) comes before the not-yet-due one's (Dec 27).
    expect(previewInvoiceFor(rows, 10, today)).toBe('recent');
    // Its day for every invoice passed: the youngest, not the 699-days-overdue one.
    expect(previewInvoiceFor(rows.slice(0, 2), -3, today)).toBe('recent');
    expect(previewInvoiceFor([], 1, today)).toBeUndefined();
  });
});

describe('Approvals: the send time on a card', () => {
  const now = Date.parse('2026-12-07T09:40:00Z');
  it('a send time still ahead reads "would send <time>"', () => {
    expect(sendTimeWords('2026-12-07T10:28:00Z', now)).toMatch(/^would send Dec 7, 2026/);
  });
  it('a send time already passed while the message waited for approval is not shown as when it would send', () => {
    const words = sendTimeWords('2026-12-07T09:28:00Z', now);
    expect(words).not.toMatch(/^would send/);
    expect(words).toMatch(
      /^planned for Dec 7, 2026, .* now passed: once approved it goes at the next sending time$/,
    );
  });
});

describe('Approvals: a card refused as changed (409 message_changed)', () => {
  const msg = (status: string) => ({ id: 'dm_1', status }) as unknown as DunningMessage;
  it('reloads a message still waiting for approval, and lets a withdrawn or no longer held one go', async () => {
    expect(await reloadChanged(async () => msg('awaiting_approval'))).toMatchObject({ id: 'dm_1' });
    // Withdrawn by a re-plan (held: skipped), or planned again as needing no approval (queued): not to be approved.
    expect(await reloadChanged(async () => msg('skipped'))).toBeNull();
    expect(await reloadChanged(async () => msg('queued'))).toBeNull();
    // Taken back (deleted): the card's reload answered 404, which used to replace the 409's words with "not found".
    expect(
      await reloadChanged(async () => {
        throw new ApiError(404, 'not_found', 'message dm_1 not found');
      }),
    ).toBeNull();
    await expect(
      reloadChanged(async () => {
        throw new ApiError(500, 'internal', 'boom');
      }),
    ).rejects.toThrow('boom');
  });
});
