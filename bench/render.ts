/**
 * Reminder render (issue 18): renderPlannedMessage (props, HTML and plain-text part) vs renderToStaticMarkup of
 * the same React tree, interleaved in rounds within one process; plus the parts (HTML alone, text alone) and
 * @react-email/render's own render() + toPlainText (the path before issue 18) for comparison.
 * `tsx bench/render.ts [messages] [rounds]`: one JSON line; run with NODE_ENV=production (bench/run.ts does).
 */
import path from 'node:path';
import { render as reactEmailRender } from '@react-email/render';
import { renderToStaticMarkup } from 'react-dom/server';
import { emailElement, renderEmail, renderHtml } from '../emails/render';
import { plan } from '../src/dunning/planner';
import { plannedMessageEmail, renderPlannedMessage } from '../src/dunning/render-planned-message';
import { generate } from './dunning';

const NOW = new Date('2026-11-24T07:00:00Z');
const ctx = {
  sender: {
    companyName: 'Nordlicht GmbH',
    replyTo: 'ar@nordlicht.example',
    address: ['Hafenstraße 12', '20457 Hamburg'],
  },
  debtor: { name: 'Bench Debtor', customerSince: '2019-04-01' },
  locale: 'de-DE',
  timezone: 'Europe/Berlin',
  unsubscribeUrl: 'https://app.duely.example/u/bench',
  now: NOW,
};

async function timed(n: number, f: (i: number) => unknown): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await f(i);
  return (n / (performance.now() - t)) * 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r2 = (x: number) => Math.round(x * 100) / 100;

export async function benchRender(messages = 2_000, rounds = 3) {
  // Enough customers for `messages` planned messages (most customers get one).
  const planned = plan(generate(Math.ceil(messages * 1.3))).messages.slice(0, messages);
  const emails = planned.map((m) => plannedMessageEmail(m, ctx));
  const elements = () => emails.map((e) => emailElement(e.kind, e.props as never));
  const n = planned.length;
  const sample = Math.min(n, 300);
  // Warm-up (module load and JIT), as a long-lived worker pays once.
  for (let i = 0; i < 50; i++) {
    await renderPlannedMessage(planned[i % n]!, ctx);
    renderToStaticMarkup(emailElement(emails[i % n]!.kind, emails[i % n]!.props as never));
    await reactEmailRender(emailElement(emails[i % n]!.kind, emails[i % n]!.props as never));
  }
  const duely: number[] = [];
  const reference: number[] = [];
  const htmlOnly: number[] = [];
  const before: number[] = [];
  // Duely and the reference alternate (which goes first alternates too); the parts and the old path are measured
  // after the rounds, so their garbage is not collected inside a Duely or reference measurement.
  for (let r = 0; r < rounds; r++) {
    const els = elements();
    const measureDuely = async () =>
      duely.push(await timed(n, (i) => renderPlannedMessage(planned[i]!, ctx)));
    const measureRef = async () => reference.push(await timed(n, (i) => renderToStaticMarkup(els[i]!)));
    if (r % 2 === 0) {
      await measureDuely();
      await measureRef();
    } else {
      await measureRef();
      await measureDuely();
    }
  }
  const els2 = elements();
  htmlOnly.push(await timed(n, (i) => renderHtml(els2[i]!)));
  // The pre-issue-18 path on a smaller sample (it is ~10× slower).
  const els3 = elements();
  before.push(
    await timed(sample, async (i) => {
      const { toPlainText } = await import('@react-email/render');
      toPlainText(await reactEmailRender(els3[i]!));
    }),
  );
  const ratios = duely.map((d, i) => d / reference[i]!);
  const kb = (await renderEmail(emails[0]!.kind, emails[0]!.props as never)).html.length / 1024;
  return {
    bench: 'render',
    node_env: process.env.NODE_ENV ?? 'development',
    messages: n,
    rounds,
    'renders/s (html + text), median': Math.round(median(duely)),
    'renderToStaticMarkup/s, median': Math.round(median(reference)),
    'html part alone/s': Math.round(median(htmlOnly)),
    'before (@react-email render + toPlainText)/s': Math.round(median(before)),
    'ratio min': r2(Math.min(...ratios)),
    'ratio median': r2(median(ratios)),
    'html KiB (first message)': r2(kb),
    figures: [
      {
        figure: 'reminder render (html + text)',
        value: Math.round(median(duely)),
        unit: 'renders/s',
        reference: 'renderToStaticMarkup of the same tree',
        referenceValue: Math.round(median(reference)),
        ratio: median(ratios),
      },
    ],
  };
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  const n = Number(process.argv[2] ?? 2_000);
  const rounds = Number(process.argv[3] ?? 3);
  benchRender(n, rounds).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
