/**
 * Credit on account in the pure planner: per currency, never netted across currencies; a requested statement
 * carries it too, so its email says what the credit leaves to pay.
 */
import { describe, expect, it } from 'vitest';
import { plan, requestedStatements } from '../../src/dunning/planner';
import { customer, input, invoice } from './planner-fixtures';

describe('credit on account', () => {
  it('credit in one currency does not cover invoices in another', () => {
    const r = plan(
      input({
        customers: [customer('c', { credits: [{ currency: 'USD', creditMinor: 500_000 }] })],
        invoices: [invoice('i1', 'c', 20)],
      }),
    );
    expect(r.messages).toHaveLength(1);
    expect(r.messages[0]!.snapshot.credits).toBeUndefined();
    expect(r.messages[0]!.approvalReason ?? '').not.toContain('credit on account');
  });

  it('a requested statement records the credit in its snapshot', () => {
    const statements = requestedStatements(
      input({
        customers: [customer('c', { credits: [{ currency: 'EUR', creditMinor: 25_000 }] })],
        invoices: [invoice('i1', 'c', 20)],
      }),
      ['c'],
      'ada@example.com',
    );
    const s = statements.get('c');
    expect(s && 'message' in s ? s.message?.snapshot.credits : undefined).toEqual([
      { currency: 'EUR', creditMinor: 25_000 },
    ]);
  });
});
