import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isIsoDate as csvIsIsoDate } from '../../connectors/csv/parse';
import { addDays, dayInZone, daysBetween, isIsoDate, isoDay, isTimeZone } from '../../connectors/dates';
import { daysPastDue, localIsoDate } from '../../emails/locale-format';
import { diffDays, addDays as dunningAddDays } from '../../src/dunning/local-time';
import { isDay, addDays as timelineAddDays } from '../../src/web/pages/customer/customer-timeline';

describe('date kernel (connectors/dates.ts)', () => {
  it('validates calendar days', () => {
    for (const ok of ['2024-02-29', '2026-12-31', '0050-01-01']) expect(isIsoDate(ok), ok).toBe(true);
    for (const bad of [
      '2023-02-29',
      '2024-02-30',
      '2024-13-01',
      '2024-1-01',
      '2024-01-01T00:00:00Z',
      '',
      '0000-01-01',
    ])
      expect(isIsoDate(bad), bad).toBe(false);
  });

  it('adds days and counts them across month, year and DST boundaries', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-08', -1)).toBe('2026-03-07');
    expect(daysBetween('2026-03-01', '2026-04-01')).toBe(31); // a US DST change inside
    expect(daysBetween('2026-04-01', '2026-03-01')).toBe(-31);
    expect(() => addDays('not a day', 1)).toThrow(RangeError);
  });

  it('finds the calendar day of an instant in a zone', () => {
    expect(isoDay(new Date('2026-11-27T23:30:00Z'))).toBe('2026-11-27');
    expect(dayInZone('2026-11-27T20:00:00Z', 'Pacific/Auckland')).toBe('2026-11-28');
    expect(dayInZone(new Date('2026-11-27T03:00:00Z'), 'America/Los_Angeles')).toBe('2026-11-26');
    expect(dayInZone('2026-11-27T12:00:00Z', 'UTC')).toBe('2026-11-27');
    expect(() => dayInZone('nope', 'UTC')).toThrow(RangeError);
    expect(isTimeZone('America/New_York')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(() => dayInZone('2026-11-27T12:00:00Z', 'Mars/Olympus')).toThrow(RangeError);
  });

  it('is the one copy: emails, dunning, CSV and the customer page give the kernel answers', () => {
    expect(daysPastDue('2026-11-01', '2026-11-27')).toBe(daysBetween('2026-11-01', '2026-11-27'));
    expect(localIsoDate('2026-11-27T20:00:00Z', 'Pacific/Auckland')).toBe('2026-11-28');
    expect(diffDays('2026-11-27', '2026-11-01')).toBe(26);
    expect(dunningAddDays('2026-11-27', 5)).toBe('2026-12-02');
    expect(timelineAddDays('2026-11-27T10:00:00Z', 5)).toBe('2026-12-02'); // an instant counts as its UTC day
    for (const v of ['2024-02-29', '2023-02-29', '2024-13-01'])
      expect([csvIsIsoDate(v), isDay(v)], v).toEqual([isIsoDate(v), isIsoDate(v)]);
  });

  it('kernel files stay browser-safe: they import nothing (the web bundle includes them)', () => {
    for (const file of ['connectors/money.ts', 'connectors/dates.ts']) {
      const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      expect(text.match(/^\s*import\b.*$/gm) ?? [], file).toEqual([]);
      expect(text, file).not.toMatch(/\brequire\(|\bprocess\.|\bBuffer\b/);
    }
  });
});
