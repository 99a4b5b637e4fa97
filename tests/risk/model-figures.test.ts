import { describe, expect, it } from 'vitest';
import {
  comparisonInWords,
  decisionInWords,
  modelChangeInWords,
  modelInUseInWords,
  validationInWords,
  versionInWords,
  versionToDescribe,
} from '../../src/web/lib/model-figures';

const e = (value: number) => ({ value, lo: value, hi: value });
const figures = (auc: number, mae: number, w3: number, cov: number) => ({
  auc: e(auc),
  payDateMae: e(mae),
  within3Days: e(w3),
  intervalCoverage: e(cov),
});

describe('the tenant model’s chronological figures in plain words (Settings)', () => {
  it('says what was checked, how, and compares with the rule of thumb', () => {
    const text = comparisonInWords({
      promote: true,
      metrics: {
        invoices: 1817,
        slice: { from: '2019-02-01', to: '2019-05-02' },
        challenger: figures(0.842, 2.66, 0.805, 0.893),
        heuristic: figures(0.782, 3.76, 0.751, 0.766),
      },
    });
    expect(text).toBe(
      "Checked on your 1817 paid invoices issued 2019-02-01 to 2019-05-02, each predicted on the day it was issued by a model trained only on what came before: it told late payers from punctual ones correctly 84 times in 100 (rule of thumb from each customer's history: 78); its pay dates were off by 2.7 days on average (rule of thumb: 3.8 days), 81% within 3 days (75%); 89% of payments fell inside the predicted range.",
    );
  });

  it('says when the tenant switched to the rule of thumb because no model beat it', () => {
    const text = comparisonInWords({
      promote: false,
      useHeuristic: true,
      metrics: {
        invoices: 120,
        slice: { from: '2013-09-01', to: '2013-11-30' },
        challenger: figures(0.61, 5.2, 0.41, 0.79),
        heuristic: figures(0.66, 4.1, 0.5, 0.7),
      },
    });
    expect(text).toMatch(/customer's history: 66\)/);
    expect(text).toMatch(
      /Neither this model nor the one in use did better than the rule of thumb, so Duely now predicts late payment and pay dates with the rule of thumb/,
    );
  });

  it('says nothing when no comparison could be made', () => {
    expect(comparisonInWords({ promote: false, metrics: null })).toBeNull();
    expect(comparisonInWords(undefined)).toBeNull();
  });
});

describe('the model in use’s validation in plain words (Settings)', () => {
  it('words AUC, Brier and coverage without the jargon, saying whose invoices they were', () => {
    const v = { invoices: 1066, auc: 0.829, brier: 0.1675, intervalCoverage: 0.816 };
    expect(validationInWords(v, true)).toBe(
      'Checked on 1066 invoices of the ledgers it was built from issued after the ones it learnt from: it told late payers from punctual ones correctly 83 times in 100; its late-payment probabilities scored 0.168 (squared error: 0 is perfect, 0.25 is a coin toss); 82% of payments fell inside the predicted range.',
    );
    expect(validationInWords(v, false)).toMatch(/^Checked on 1066 of your invoices issued after/);
  });

  it('describes the version in use, else the newest trained', () => {
    const versions = [
      { version: 'c', status: 'rejected' },
      { version: 'b', status: 'active' },
      { version: 'a', status: 'retired' },
    ];
    expect(versionToDescribe(versions)?.version).toBe('b');
    expect(versionToDescribe(versions.filter((v) => v.status !== 'active'))?.version).toBe('c');
    expect(versionToDescribe([])).toBeNull();
  });
});

describe('the model in use, in plain words (Settings)', () => {
  const shippedValidation = { invoices: 1066, auc: 0.831, brier: 0.166, intervalCoverage: 0.822 };

  it('a tenant on the rule of thumb is told so, never the shipped model’s figures as "your invoices"', () => {
    const text = modelInUseInWords({ scoring: 'heuristic', validation: shippedValidation }, true);
    expect(text).toBe(
      "The customer-history rule of thumb (each customer's own late rate and days to pay): no trained model beat it on your most recent paid invoices (the check is below the model it was compared with).",
    );
    expect(text).not.toContain('1066');
  });

  it('a trained model keeps its validation sentence', () => {
    expect(modelInUseInWords({ scoring: 'model', validation: shippedValidation }, false)).toBe(
      validationInWords(shippedValidation, true),
    );
    expect(modelInUseInWords({ validation: null }, false)).toBeNull();
  });
});

describe('a trained version in plain words (Settings)', () => {
  it('names the day it was trained and whether it is used, never the hash or the status code', () => {
    const text = versionInWords(
      {
        status: 'rejected',
        reason:
          'kept the current predictions: only 0 of the invoices issued from 2026-07-21 to 2026-10-19 are paid',
        createdAt: '2026-12-07T06:00:00.000Z',
      },
      (d) => `[${d}]`,
    );
    expect(text).toBe(
      'Trained [2026-12-07] — not used: kept the current predictions: only 0 of the invoices issued from 2026-07-21 to 2026-10-19 are paid',
    );
    expect(
      versionInWords(
        { status: 'active', reason: 'beats the rule', createdAt: '2026-12-01T00:00:00Z' },
        (d) => d,
      ),
    ).toMatch(/^Trained 2026-12-01 — in use: /);
  });
});

describe("a retrain's decision in a controller's words", () => {
  it('says what the figures of each decision mean, never "challenger log-loss"', () => {
    const cases: [string, string, RegExp][] = [
      [
        'rejected',
        'challenger log-loss 0.5120 is not 0.005 better than the current 0.5090',
        /^its late-payment chances were not clearly better than the model in use's/,
      ],
      [
        'rejected',
        'challenger AUC 0.701 is below the current 0.744',
        /^it told late payers from punctual ones less well than the model in use/,
      ],
      [
        'active',
        'challenger log-loss 0.4800 vs current 0.5090, heuristic 0.5200',
        /^it predicted your most recent paid invoices better than the customer-history rule of thumb and than the model before it$/,
      ],
      [
        'active',
        'no current model; challenger beats the heuristic',
        /^it predicted your most recent paid invoices better than the customer-history rule of thumb$/,
      ],
      [
        'active',
        "challenger log-loss 0.53 does not beat the heuristic's 0.52, and it clearly beats the current model (…): scoring switches to the customer-history rule of thumb",
        /predictions now use the rule$/,
      ],
      [
        'rejected',
        "challenger pay-date MAE 6.10 d does not beat the heuristic's 5.90 d; scoring stays on the customer-history rule of thumb",
        /which predictions keep using$/,
      ],
    ];
    for (const [status, reason, words] of cases) {
      const text = decisionInWords(status, reason);
      expect(text).toMatch(words);
      expect(text).not.toMatch(/challenger|log-loss|AUC/);
    }
    // A reason of an unknown shape is shown as it is.
    expect(decisionInWords('rejected', 'something new')).toBe('something new');
  });

  it('two versions trained the same day are told apart by the time', () => {
    const v = { status: 'rejected', reason: 'something new', createdAt: '2026-12-07T09:41:00Z' };
    expect(
      versionInWords(
        v,
        (d) => d,
        () => 'Dec 7, 2026, 9:41 AM',
      ),
    ).toBe('Trained Dec 7, 2026, 9:41 AM — not used: something new');
  });
});

describe('the last change of model in words (Settings)', () => {
  it('says when predictions switched and how the bands moved, and why they move', () => {
    const text = modelChangeInWords(
      {
        at: '2026-12-07T06:00:00.000Z',
        from: 'payment-delay-2026-11-27-17edc8ed',
        to: 'payment-delay-2026-12-07-aa11bb22-0b1c2d3e',
        before: { low: 900, medium: 500, high: 277 },
        after: { low: 1_036, medium: 500, high: 141 },
      },
      (d) => d,
    );
    expect(text).toBe(
      'Predictions switched to a new model on 2026-12-07: open invoices at high risk 277 → 141, medium 500 → 500, ' +
        "low 900 → 1,036 (the previous model's last scoring, the new one's first). Each model sets its own risk " +
        'bands from the invoices it was checked on, so the counts move when the model changes even if no invoice did.',
    );
    expect(
      modelChangeInWords(
        {
          at: '2026-12-07T06:00:00.000Z',
          from: 'a',
          to: 'heuristic-2026-12-07-0b1c2d3e',
          before: { low: 1, medium: 1, high: 1 },
          after: { low: 1, medium: 1, high: 1 },
        },
        (d) => d,
      ),
    ).toMatch(/^Predictions switched to the customer-history rule of thumb on 2026-12-07:/);
  });
});
