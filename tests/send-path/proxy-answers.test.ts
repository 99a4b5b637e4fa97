/**
 * A proxy or gateway in front of Resend may answer itself, with a JSON body not in Resend's shape (no statusCode, no
 * name): resend-node then returns that body as the error and drops the HTTP status. A 429 from it read as a dropped
 * connection ("may have been accepted"): the message was marked in doubt, so it could no longer be re-rendered,
 * edited or skipped, and a payment meanwhile made it `unconfirmed` with a review task, for a request nothing had
 * forwarded. The status is now kept: a proxy's 429 is a refusal for now, a proxy's 5xx stays in doubt.
 */
import { describe, expect, it } from 'vitest';
import { sendMessage } from '../../src/dunning/send-message';
import { ResendTransport } from '../../src/mail/resend';
import { MailSendError } from '../../src/mail/transport';
import { noSleep, rowOf, sendPathSuite, singleInvoiceMessage } from './helpers';
import { ResendStandIn } from './resend-stand-in';

const email = (id: string) => ({
  id,
  from: 'Acme Billing <billing@acme.example>',
  to: ['ap@debtor.example'],
  subject: 'Invoice 1042',
  html: '<p>hi</p>',
  text: 'hi',
  tags: {},
});

async function refusal(status: number, batch = false): Promise<MailSendError> {
  const standIn = await new ResendStandIn().start();
  try {
    const t = new ResendTransport({ apiKey: 're_test_standin', baseUrl: standIn.url, timeoutMs: 3_000 });
    standIn.queue.push({ kind: 'proxy', status });
    const call = batch
      ? t.sendBatchAttempt([email('dm_a'), email('dm_b')], { idempotencyKey: 'batch/x' })
      : t.send(email('dm_a'));
    const e = await call.then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(MailSendError);
    expect(standIn.deliveries).toHaveLength(0);
    return e as MailSendError;
  } finally {
    await standIn.stop();
  }
}

describe("a proxy's own answer", () => {
  it('429 (single and batch): refused for now, not "may have been accepted"', async () => {
    for (const batch of [false, true]) {
      const e = await refusal(429, batch);
      expect(e.statusCode).toBe(429);
      expect(e.retryable).toBe(true);
      expect(e.mayHaveBeenAccepted).toBe(false);
    }
  });

  it('502 stays "may have been accepted" (the gateway may have forwarded it)', async () => {
    const e = await refusal(502);
    expect(e.statusCode).toBe(502);
    expect(e.mayHaveBeenAccepted).toBe(true);
  });
});

const env = sendPathSuite();

describe("a send refused by a proxy's 429", () => {
  it('leaves the message queued with no attempt in doubt', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, transport, standIn } = env;
    standIn.queue.push(
      { kind: 'proxy', status: 429 },
      { kind: 'proxy', status: 429 },
      { kind: 'proxy', status: 429 },
    );
    const r = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(r.outcome, JSON.stringify(r)).not.toBe('sent');
    const row = await rowOf(s, m.id);
    expect(row.status).toBe('queued');
    expect(row.inDoubtSince).toBeNull();
    expect(standIn.deliveriesOf(m.id)).toHaveLength(0);
  });
});
