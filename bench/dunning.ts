/**
 * Dunning throughput: plan 10,000 overdue customers (1–4 invoices each, mixed risk), render their emails (HTML +
 * plain text), and compare with the rate the send path really reaches under Resend's default limit of 2 requests/s
 * (messages/s = requests/s × messages per request):
 * - one request per message (src/dunning/send-message.ts, MAIL_BATCH off, the default): 2 emails/s;
 * - stored batches (src/dunning/send-batch.ts, MAIL_BATCH on): up to 100 per POST /emails/batch, so
 *   2 × min(100, messages due together) emails/s.
 * The figure marked "configured" is the one the process would use with this environment's MAIL_BATCH.
 * Run with NODE_ENV=production: React's development build renders several times slower.
 */
import { pathToFileURL } from 'node:url';
import { addDays } from '../src/dunning/local-time';
import { type PlannerInput, plan } from '../src/dunning/planner';
import { DEFAULT_POLICY, dunningSettingsSchema } from '../src/dunning/policy';
import { renderPlannedMessage } from '../src/dunning/render-planned-message';

/** Resend's default rate limit (per team, every key; the `ratelimit-limit: 2` header). */
const RESEND_REQUESTS_PER_SECOND = 2;
/** POST /emails/batch takes at most 100 emails (RESEND_BATCH_LIMIT). */
const RESEND_BATCH_LIMIT = 100;
const MAIL_BATCH = ['true', 'on', '1'].includes((process.env.MAIL_BATCH ?? '').trim().toLowerCase());
const NOW = new Date('2026-11-24T07:00:00Z');
const TODAY = '2026-11-24';

export async function benchDunning(
  customers = 10_000,
  renderSample = 1_000,
): Promise<Record<string, unknown>> {
  const input = generate(customers);

  const t0 = performance.now();
  const { messages, decisions } = plan(input);
  const planMs = performance.now() - t0;

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
  // Warm-up: the first renders pay for module and JIT start-up, which a long-lived worker pays once.
  for (const m of messages.slice(0, 20)) await renderPlannedMessage(m, ctx);
  const sample = messages.slice(0, renderSample);
  const t1 = performance.now();
  let bytes = 0;
  for (const m of sample) bytes += (await renderPlannedMessage(m, ctx)).html.length;
  const renderMs = performance.now() - t1;

  const planPerMsgMs = planMs / Math.max(1, messages.length);
  const renderPerMsgMs = renderMs / Math.max(1, sample.length);
  const pipelinePerSecond = 1000 / (planPerMsgMs + renderPerMsgMs);
  // Messages per request: one without batching; with it, everything due together up to the limit (the bench's
  // book is all due on the same morning).
  const perRequestSingle = 1;
  const perRequestBatch = Math.max(1, Math.min(RESEND_BATCH_LIMIT, messages.length));
  const singleRate = RESEND_REQUESTS_PER_SECOND * perRequestSingle;
  const batchRate = RESEND_REQUESTS_PER_SECOND * perRequestBatch;
  const sendRate = MAIL_BATCH ? batchRate : singleRate;
  const mode = MAIL_BATCH ? 'stored batches (MAIL_BATCH on)' : 'one request per message (MAIL_BATCH off)';
  return {
    // React renders several times slower in development mode; production workers run with NODE_ENV=production.
    node_env: process.env.NODE_ENV ?? 'development',
    customers,
    invoices: input.invoices.length,
    messages_planned: messages.length,
    customers_skipped_or_waiting: decisions.filter((d) => d.outcome !== 'message').length,
    plan_ms: round(planMs),
    plan_messages_per_s: round((messages.length / planMs) * 1000),
    render_sample: sample.length,
    render_messages_per_s: round((sample.length / renderMs) * 1000),
    render_avg_html_kb: round(bytes / Math.max(1, sample.length) / 1024),
    pipeline_messages_per_s: round(pipelinePerSecond),
    resend_requests_per_s: RESEND_REQUESTS_PER_SECOND,
    send_mode_configured: mode,
    // The real sending rate: requests/s × messages per request.
    send_rate_emails_per_s: sendRate,
    send_rate_basis: `${RESEND_REQUESTS_PER_SECOND} requests/s × ${MAIL_BATCH ? perRequestBatch : perRequestSingle} message(s) per request, ${mode}`,
    pipeline_vs_send_rate: round(pipelinePerSecond / sendRate),
    bottleneck:
      pipelinePerSecond > sendRate ? `Resend rate limit (${mode})` : 'planning + rendering (one core)',
    minutes_to_send_all: round(messages.length / sendRate / 60),
    single_send_rate_emails_per_s: singleRate,
    minutes_to_send_all_single: round(messages.length / singleRate / 60),
    batch_messages_per_request: perRequestBatch,
    batch_send_rate_emails_per_s: batchRate,
    minutes_to_send_all_batched: round(messages.length / batchRate / 60),
    figures: [
      {
        figure: `dunning: sending rate, one request per message (MAIL_BATCH off${MAIL_BATCH ? '' : ', configured'})`,
        value: singleRate,
        unit: 'emails/s',
        reference:
          'plan + render pipeline, same run (ratio = sending ÷ pipeline: < 1 means sending is the bottleneck)',
        referenceValue: round(pipelinePerSecond),
        ratio: singleRate / pipelinePerSecond,
      },
      {
        figure: `dunning: sending rate, stored batches of ${perRequestBatch} (MAIL_BATCH on${MAIL_BATCH ? ', configured' : ''})`,
        value: batchRate,
        unit: 'emails/s',
        reference: 'plan + render pipeline, same run',
        referenceValue: round(pipelinePerSecond),
        ratio: batchRate / pipelinePerSecond,
      },
    ],
  };
}

/** Deterministic synthetic book: every customer has at least one overdue invoice. */
export function generate(n: number): PlannerInput {
  const bands = ['low', 'medium', 'high'] as const;
  const input: PlannerInput = {
    now: NOW,
    settings: dunningSettingsSchema.parse({
      timezone: 'Europe/Berlin',
      businessDays: [1, 2, 3, 4, 5],
      businessHours: { start: 8, end: 18 },
      quietHours: { start: 20, end: 8 },
      approvalThresholdMinor: 500_000,
    }),
    policy: DEFAULT_POLICY,
    customers: [],
    invoices: [],
    invoicePredictions: [],
    customerPredictions: [],
    history: [],
    promises: [],
    disputes: [],
    engagement: [],
  };
  for (let c = 0; c < n; c++) {
    const id = `c${c}`;
    const band = bands[c % 3]!;
    input.customers.push({
      id,
      name: `Debtor ${c}`,
      emails: [`ap@d${c}.example`],
      tags: [],
      strategic: c % 50 === 0,
      bounced: false,
      optedOut: false,
    });
    input.customerPredictions.push({
      customerId: id,
      riskScore: band === 'low' ? 0.1 : band === 'medium' ? 0.5 : 0.9,
      riskBand: band,
      slowingAlert: c % 17 === 0,
    });
    for (let k = 0; k < 1 + (c % 4); k++) {
      const overdue = ((c * 7 + k * 11) % 60) + 1;
      const dueDate = addDays(TODAY, -overdue);
      const invoiceId = `${id}-i${k}`;
      const open = 10_000 + ((c * 31 + k * 97) % 900_000);
      input.invoices.push({
        id: invoiceId,
        customerId: id,
        number: `${10_000 + c * 4 + k}`,
        issueDate: addDays(dueDate, -30),
        dueDate,
        totalMinor: open + (k % 2) * 5_000,
        openBalanceMinor: open,
        currency: 'EUR',
        payLink: `https://pay.example/${invoiceId}`,
      });
      input.invoicePredictions.push({
        invoiceId,
        pLate: band === 'high' ? 0.8 : 0.3,
        predictedPayDate: addDays(dueDate, band === 'high' ? 20 : 2),
        riskBand: band,
        pCollect90: null,
        reasons: [],
      });
    }
  }
  return input;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

// One JSON line on stdout, the shape bench/run.ts reads: `tsx bench/dunning.ts [customers]`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchDunning(Number(process.argv[2] ?? 10_000))));
}
