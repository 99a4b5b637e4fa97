/**
 * A proxy's own answer whose JSON body is not an object (a bare string, null): resend-node returns that value as the
 * error as it is. A 429 is still a refusal for now (nothing forwarded), a 5xx still "may have been accepted"; never
 * a success, and never a dropped connection for a 429.
 */
import { describe, expect, it } from 'vitest';
import { ResendTransport } from '../../src/mail/resend';
import { MailSendError } from '../../src/mail/transport';
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

async function answer(status: number, body: unknown, batch = false): Promise<unknown> {
  const standIn = await new ResendStandIn().start();
  try {
    const t = new ResendTransport({
      apiKey: 're_test_standin',
      baseUrl: standIn.url,
      timeoutMs: 3_000,
      maxAttempts: 1,
    });
    standIn.queue.push({ kind: 'proxy', status, body });
    const call = batch
      ? t.sendBatchAttempt([email('dm_a'), email('dm_b')], { idempotencyKey: 'batch/x' })
      : t.send(email('dm_a'));
    const r = await call.then(
      (ok) => ({ ok }),
      (err: unknown) => err,
    );
    expect(standIn.deliveries).toHaveLength(0);
    return r;
  } finally {
    await standIn.stop();
  }
}

describe("a proxy's bare answer", () => {
  for (const body of [null, 'Too Many Requests', 429]) {
    for (const batch of [false, true]) {
      it(`429 with body ${JSON.stringify(body)}${batch ? ' (batch)' : ''}: refused for now`, async () => {
        const e = await answer(429, body, batch);
        expect(e, JSON.stringify(e)).toBeInstanceOf(MailSendError);
        expect((e as MailSendError).statusCode).toBe(429);
        expect((e as MailSendError).mayHaveBeenAccepted).toBe(false);
      });
      it(`502 with body ${JSON.stringify(body)}${batch ? ' (batch)' : ''}: an error, maybe accepted`, async () => {
        const e = await answer(502, body, batch);
        expect(e, JSON.stringify(e)).toBeInstanceOf(MailSendError);
        expect((e as MailSendError).mayHaveBeenAccepted).toBe(true);
      });
    }
  }
});
