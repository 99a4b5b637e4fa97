/**
 * What a finance controller read on day one (session 36's walk through the demo company), outside the browser: the
 * forecast's "Already past due: $0.00" beside $215,893.81 overdue, a held message "planned … 0 earlier reminder(s)",
 * and the customer timeline's "17:00" where every other page says "5:00 PM".
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ForecastChart } from '../../src/web/components/charts';
import { type DunningMessage, MessageWhy } from '../../src/web/components/dunning';
import { formatClock } from '../../src/web/lib/format';
import type { Analytics } from '../../src/web/lib/types';

type Forecast = Analytics['forecast'];

const week = (start: string, expectedMinor: number, cumulativeMinor: number) => ({
  week: 0,
  start,
  end: start,
  expectedMinor,
  cumulativeMinor,
  lowMinor: cumulativeMinor,
  highMinor: cumulativeMinor,
});

const caption = (f: Forecast) => {
  const html = renderToStaticMarkup(<ForecastChart forecast={f} currency="USD" />);
  const m = /<figcaption[^>]*>(.*?)<\/figcaption>/s.exec(html);
  return (m?.[1] ?? '').replace(/<!-- -->/g, '');
};

describe('the cash forecast caption', () => {
  const weeks = [week('2026-12-07', 3_953_882, 3_953_882), week('2026-12-14', 5_643_963, 9_597_845)];

  it('predicted, with overdue balances spread over the weeks: no "Already past due: $0.00"', () => {
    const text = caption({
      source: 'predicted',
      weeks,
      pastDueMinor: 0,
      laterMinor: 9_964_512,
      doubtfulMinor: 9_709_365,
    });
    expect(text).not.toContain('Already past due');
    expect(text).toContain('After 13 weeks: $99,645.12, of which $97,093.65 is overdue debt');
  });

  it('predicted dates before today, or the naive forecast: the past-due amount is still stated', () => {
    expect(
      caption({ source: 'predicted', weeks, pastDueMinor: 12_345, laterMinor: 0, doubtfulMinor: 0 }),
    ).toContain('Already past due: $123.45.');
    expect(
      caption({ source: 'due_date', weeks, pastDueMinor: 0, laterMinor: 0, doubtfulMinor: 0 }),
    ).toContain('Already past due: $0.00.');
  });
});

describe('a held message’s "Planned" line', () => {
  const message = (previousReminders: number) =>
    ({
      id: 'dm_1',
      stepKey: 'standard:0',
      tone: 'neutral',
      why: {
        reason: 'Invoice 2052 is 547 days overdue',
        approvalReason: null,
        statusReason: null,
        templateVersion: null,
        snapshot: { asOf: '2026-12-07', previousReminders },
      },
    }) as unknown as DunningMessage;
  const planned = (n: number) => {
    const html = renderToStaticMarkup(<MessageWhy m={message(n)} />).replace(/<!-- -->/g, '');
    return /<dt>Planned<\/dt><dd>(.*?)<\/dd>/.exec(html)?.[1];
  };

  it('counts earlier reminders in words, never "reminder(s)"', () => {
    expect(planned(0)).toBe('as of Dec 7, 2026, no earlier reminders');
    expect(planned(1)).toBe('as of Dec 7, 2026, 1 earlier reminder');
    expect(planned(3)).toBe('as of Dec 7, 2026, 3 earlier reminders');
  });
});

describe('times on the customer timeline', () => {
  it('are written as everywhere else in the app: 5:00 PM, not 17:00', () => {
    expect(formatClock('17:00')).toBe('5:00 PM');
    expect(formatClock('09:05')).toBe('9:05 AM');
    expect(formatClock('00:30')).toBe('12:30 AM');
  });
});
