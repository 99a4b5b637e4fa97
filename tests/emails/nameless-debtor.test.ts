/**
 * A CSV ledger has no customer names: a customer's name is its customer_id. Every email greeted it by that number
 * ("Hi 140106181,", "Hello CCU013,") — the first thing a debtor read on day one. A debtor known only by an account
 * number is greeted "Hello,"; a contact's name or a real company name is used as before.
 */
import { describe, expect, it } from 'vitest';
import { InvoiceCopy } from '../../emails/invoice-copy';
import { PaymentReceipt } from '../../emails/payment-receipt';
import { Reminder } from '../../emails/reminder';
import { type EmailKind, type EmailPropsByKind, renderEmail } from '../../emails/render';
import { Statement } from '../../emails/statement';

const PREVIEWS: { [K in EmailKind]: EmailPropsByKind[K] } = {
  reminder: Reminder.PreviewProps,
  payment_receipt: PaymentReceipt.PreviewProps,
  invoice_copy: InvoiceCopy.PreviewProps,
  statement: Statement.PreviewProps,
};
const TONES = ['friendly', 'neutral', 'firm', 'final'] as const;

/** Each template (a reminder in each tone), for a debtor the ledger names only "140106181". */
function cases(debtor: Partial<EmailPropsByKind['reminder']['debtor']>) {
  const out: { label: string; kind: EmailKind; props: EmailPropsByKind[EmailKind] }[] = [];
  for (const kind of Object.keys(PREVIEWS) as EmailKind[]) {
    const base = PREVIEWS[kind];
    const props = {
      ...base,
      debtor: { ...base.debtor, name: '140106181', contactName: undefined, ...debtor },
    };
    if (kind === 'reminder')
      for (const tone of TONES)
        out.push({ label: `reminder (${tone})`, kind, props: { ...props, tone } as never });
    else out.push({ label: kind, kind, props: props as never });
  }
  return out;
}

describe('a debtor known only by an account number', () => {
  for (const c of cases({ nameIsAccountNumber: true })) {
    it(`${c.label}: greets "Hello," in HTML and text`, async () => {
      const out = await renderEmail(c.kind, c.props as never);
      expect(out.text).toMatch(/^Hello,$/m);
      expect(out.html).toMatch(/>Hello,<\/p>/);
      for (const part of [out.text, out.html]) expect(part).not.toMatch(/(Hi|Hello) 140106181/);
    });
  }

  for (const c of cases({ nameIsAccountNumber: true, contactName: 'Dana' })) {
    it(`${c.label}: a contact's name is still used`, async () => {
      const out = await renderEmail(c.kind, c.props as never);
      expect(out.text).toMatch(/^(Hi|Hello) Dana,$/m);
    });
  }

  for (const c of cases({})) {
    it(`${c.label}: a company's own name is used as before`, async () => {
      const out = await renderEmail(c.kind, c.props as never);
      expect(out.text).toMatch(/^(Hi|Hello) 140106181,$/m);
    });
  }
});
