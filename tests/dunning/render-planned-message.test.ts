import { describe, expect, it } from 'vitest';
import { plan } from '../../src/dunning/planner';
import { renderPlannedMessage } from '../../src/dunning/render-planned-message';
import { customer, input, invoice, NOW, risk, sent } from './planner-fixtures';

const ctx = {
  sender: {
    companyName: 'Nordlicht GmbH',
    replyTo: 'ar@nordlicht.example',
    address: ['Hafenstraße 12', '20457 Hamburg'],
  },
  debtor: { name: 'Bergmann KG', customerSince: '2019-04-01' },
  locale: 'de-DE',
  timezone: 'Europe/Berlin',
  unsubscribeUrl: 'https://app.duely.example/u/x',
  now: NOW,
};
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('renderPlannedMessage', () => {
  it('renders the consolidated message in its tone with every listed invoice', async () => {
    const { messages } = plan(
      input({
        customers: [customer('c')],
        invoices: [
          invoice('a-1', 'c', 26, { openBalanceMinor: 123_450, totalMinor: 150_000 }),
          invoice('b-2', 'c', 3),
        ],
        history: sent('c', 'a-1', ['standard:1:0', 'standard:2:0'], 15),
      }),
    );
    const out = await renderPlannedMessage(messages[0]!, ctx);
    const text = plain(out.text);
    expect(plain(out.subject)).toBe('Final notice: 2.234,50 € overdue with Nordlicht GmbH');
    expect(text).toMatch(
      /^Invoice A-1: 1\.234,50 € open of 1\.500,00 €\nIssued \S+; due \S+; 26 days overdue$/m,
    );
    expect(text).toMatch(/^Invoice B-2: /m);
    expect(text.replace(/\s+/g, ' ')).toContain('from you by 01.12.2026'); // final notice: 7 days from render
    expect(text).not.toMatch(/undefined|NaN/);
    expect(out.templateVersion).toBe('reminder@6');
  });

  it('adds the kind punctuality sentence only for a low-risk customer who has paid on time', async () => {
    const onTime = { paid: 12, late: 0 };
    const run = async (band: 'low' | 'medium', paidHistory?: { paid: number; late: number }) => {
      const { messages } = plan(
        input({
          customers: [customer('c', paidHistory ? { paidHistory } : {})],
          invoices: [invoice('a', 'c', 3)],
          customerPredictions: [risk('c', band)],
        }),
      );
      return (await renderPlannedMessage(messages[0]!, ctx)).text;
    };
    expect(await run('low', onTime)).toContain('always paid reliably');
    expect(await run('medium', onTime)).not.toContain('reliabl');
    // A new customer the model scores low has paid nothing yet; another paid weeks late more than once.
    expect(await run('low')).not.toContain('reliabl');
    expect(await run('low', { paid: 12, late: 3 })).not.toContain('reliabl');
  });

  it('a message planned before the payment history was recorded keeps the low-band rule', async () => {
    const { messages } = plan(
      input({
        customers: [customer('c', { paidHistory: { paid: 12, late: 0 } })],
        invoices: [invoice('a', 'c', 3)],
        customerPredictions: [risk('c', 'low')],
      }),
    );
    const { reliablePayer: _, ...older } = messages[0]!.snapshot;
    const out = await renderPlannedMessage({ ...messages[0]!, snapshot: older }, ctx);
    expect(out.text).toContain('always paid reliably');
  });
});
