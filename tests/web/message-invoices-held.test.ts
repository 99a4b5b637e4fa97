/**
 * The approval card and the message list name what the email names as on hold (a disputed invoice), not only the
 * invoices asked for: a reviewer sees why 5564 is missing from the total before approving.
 */
import { describe, expect, it } from 'vitest';
import { type DunningMessage, messageInvoices } from '../../src/web/components/dunning';

const message = (snapshot: DunningMessage['why']['snapshot']) =>
  ({ invoiceIds: ['a'], why: { snapshot } }) as unknown as DunningMessage;

describe('messageInvoices', () => {
  it('lists the invoices asked for and names those on hold', () => {
    const snap = { invoices: [{ number: '5500' }], held: [{ number: '5564', hold: 'disputed' }] };
    expect(messageInvoices(message(snap as DunningMessage['why']['snapshot']))).toBe(
      '5500 (named as on hold: 5564 disputed)',
    );
  });
  it('without held invoices, only the listed ones', () => {
    const snap = { invoices: [{ number: '5500' }] };
    expect(messageInvoices(message(snap as DunningMessage['why']['snapshot']))).toBe('5500');
  });
});
