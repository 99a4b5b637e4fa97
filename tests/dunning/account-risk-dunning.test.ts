/**
 * A customer's stored risk is the worse of its payment habit and its open debt's collection risk (s36): a customer
 * who pays new invoices on time but owes old doubtful debt is now 'high' and planned with the High risk sequence
 * (earlier, firmer, its final always approved). The promises around it still hold: a first contact is a reviewed
 * statement of account, never a threat; escalation goes one step at a time after the sequence's spacing; the email
 * does not thank the debtor for paying reliably.
 */
import { describe, expect, it } from 'vitest';
import { plan } from '../../src/dunning/planner';
import { TONE_RANK } from '../../src/dunning/policy';
import { customer, historyOf, input, invoice, NOW, prediction, risk, sent } from './planner-fixtures';

const onTimePayer = () => customer('c1', { paidHistory: { paid: 24, late: 0 } });

describe('an on-time payer scored high by its old doubtful debt', () => {
  const old = invoice('old', 'c1', 450);
  const fresh = invoice('new', 'c1', -5);
  const preds = [
    { ...prediction('old', 1, 900, old.dueDate, 'high'), pCollect90: 0.01 },
    prediction('new', 0.05, 0, fresh.dueDate, 'low'),
  ];

  it('first contact: a statement of account (neutral) held for a reviewer, both invoices listed', () => {
    const r = plan(
      input({
        customers: [onTimePayer()],
        invoices: [old, fresh],
        invoicePredictions: preds,
        customerPredictions: [risk('c1', 'high')],
      }),
    );
    expect(r.messages).toHaveLength(1);
    const m = r.messages[0]!;
    expect(m.snapshot.sequence.id).toBe('high-risk');
    expect(m).toMatchObject({ template: 'statement', requiresApproval: true });
    expect(TONE_RANK[m.tone]).toBeLessThan(TONE_RANK.firm);
    expect(m.approvalReason).toMatch(
      /^catch-up: first message to Customer c1, whose oldest invoice is 450 days/,
    );
    expect(m.invoiceIds.sort()).toEqual(['new', 'old']);
    expect(m.snapshot.reliablePayer).toBe(false);
  });

  it('once the statement went out, the next message is one step on, not the final notice its age reaches', () => {
    const parts = {
      customers: [onTimePayer()],
      invoices: [old, fresh],
      invoicePredictions: preds,
      customerPredictions: [risk('c1', 'high')],
    };
    const first = plan(input(parts)).messages;
    // The statement was approved and sent 8 days ago.
    const history = historyOf(first, 'sent').map((h) => ({
      ...h,
      at: new Date(NOW.getTime() - 8 * 86_400_000),
    }));
    const r = plan(input({ ...parts, history }));
    const m = r.messages[0]!;
    // High risk: neutral at 0 days (the statement stood for it), firm at 7, final at 21.
    expect(m).toMatchObject({ template: 'reminder', tone: 'firm', stepKey: 'high-risk:2:0' });
  });

  it('a customer first written to under the Reliable sequence, then scored high, escalates one step at a time', () => {
    const r = plan(
      input({
        customers: [onTimePayer()],
        invoices: [invoice('i1', 'c1', 40)],
        customerPredictions: [risk('c1', 'high')],
        history: sent('c1', 'i1', ['reliable:1'], 37),
      }),
    );
    const m = r.messages[0]!;
    expect(m.snapshot.sequence.id).toBe('high-risk');
    // The friendly reminder went out; the next is High risk's first overdue step, not the final notice a 40-day age
    // reaches in it.
    expect(m).toMatchObject({ tone: 'neutral', stepKey: 'high-risk:1:0' });
  });
});
