import { describe, expect, it } from 'vitest';
import { Company, DAY_MS, type Habit } from '../../sandboxes/quickbooks/company';

const NOW = new Date('2026-11-27T18:00:00.000Z');

function daysLate(company: Company) {
  const byHabit = new Map<Habit, number[]>();
  const slowing = { early: [] as number[], recent: [] as number[] };
  const today = Math.floor(NOW.getTime() / DAY_MS);
  for (const inv of company.invoices.values()) {
    if (inv.voided || inv.deleted || inv.balanceMinor !== 0 || inv.paymentIds.length === 0) continue;
    const paidDay = Math.max(...inv.paymentIds.map((id) => company.payments.get(id)?.txnDay ?? 0));
    const habit = company.customers.get(inv.customerId)?.habit as Habit;
    const late = paidDay - inv.dueDay;
    byHabit.set(habit, [...(byHabit.get(habit) ?? []), late]);
    if (habit === 'slowing' && inv.txnDay < today - 400) slowing.early.push(late);
    if (habit === 'slowing' && inv.txnDay >= today - 200) slowing.recent.push(late);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    mean: (h: Habit) => mean(byHabit.get(h) ?? []),
    slowingEarly: mean(slowing.early),
    slowingRecent: mean(slowing.recent),
  };
}

describe('sandbox company', () => {
  it('is deterministic for a seed', () => {
    const a = new Company({ seed: 5, now: NOW, customers: 40, invoices: 800 });
    const b = new Company({ seed: 5, now: NOW, customers: 40, invoices: 800 });
    expect([...a.balances()]).toEqual([...b.balances()]);
    expect(a.payments.size).toBe(b.payments.size);
    expect([...new Company({ seed: 6, now: NOW, customers: 40, invoices: 800 }).balances()]).not.toEqual([
      ...a.balances(),
    ]);
  });

  it('gives customers distinct payment habits', () => {
    const late = daysLate(new Company({ seed: 11, now: NOW, customers: 150, invoices: 5000 }));
    expect(late.mean('reliable')).toBeLessThan(0);
    expect(late.mean('slightly_late')).toBeGreaterThan(late.mean('reliable') + 5);
    expect(late.mean('chronically_late')).toBeGreaterThan(late.mean('slightly_late') + 20);
    expect(late.slowingRecent).toBeGreaterThan(late.slowingEarly + 15);
  });

  it('keeps ledger invariants: balances within [0, total], payments equal their lines plus unapplied', () => {
    const company = new Company({ seed: 3, now: NOW, customers: 150, invoices: 5000 });
    company.advance(30);
    for (const inv of company.invoices.values()) {
      expect(inv.balanceMinor).toBeGreaterThanOrEqual(0);
      expect(inv.balanceMinor).toBeLessThanOrEqual(inv.totalMinor);
      expect(inv.updatedAt).toBeLessThanOrEqual(company.now());
    }
    for (const p of company.payments.values()) {
      const cash =
        p.lines.filter((l) => l.txnType === 'Invoice').reduce((n, l) => n + l.amountMinor, 0) -
        p.lines.filter((l) => l.txnType === 'CreditMemo').reduce((n, l) => n + l.amountMinor, 0);
      expect(p.totalMinor).toBe(cash + p.unappliedMinor);
    }
    const deleted = [...company.invoices.values()].filter((i) => i.deleted);
    expect(deleted).toHaveLength(1);
  });

  it('generates 100,000 invoices in a few seconds', () => {
    const started = performance.now();
    const company = new Company({ seed: 1, now: NOW, customers: 3000, invoices: 100_000 });
    const ms = performance.now() - started;
    expect(company.invoices.size).toBe(100_000);
    expect(ms).toBeLessThan(15_000);
  });
});
