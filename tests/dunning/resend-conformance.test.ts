import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deliveryUpdate, parseResendEvent, verifyResendWebhook } from '../../src/dunning/resend-webhook';

// Vendor fixtures captured from Resend/Svix docs and SDK tests (see /work/shared/vendor/README.md, Resend section).
const dir = path.resolve(process.cwd(), '../shared/vendor/resend');
const present = existsSync(dir);
if (!present) console.warn(`resend conformance skipped: ${dir} not found`);

describe.skipIf(!present)('Resend vendor fixtures', () => {
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');

  it('the Standard Webhooks known-answer vector verifies with the clock frozen at its timestamp', () => {
    const v = JSON.parse(read('webhook-signature.vector.json'));
    const now = new Date(Number(v.headers['svix-timestamp']) * 1000);
    expect(verifyResendWebhook({ rawBody: v.rawBody, headers: v.headers, secret: v.secret, now })).toEqual({
      ok: true,
    });
    // With a real clock it is a replay and must fail.
    expect(
      verifyResendWebhook({ rawBody: v.rawBody, headers: v.headers, secret: v.secret, now: new Date() }),
    ).toEqual({
      ok: false,
      reason: 'timestamp_out_of_window',
    });
  });

  const payloads = present ? readdirSync(dir).filter((f) => /^webhook-email\..+\.json$/.test(f)) : [];
  it('has a payload for each tracked event', () => expect(payloads.length).toBeGreaterThanOrEqual(9));

  it.each(payloads)('%s parses', (file) => {
    const raw = read(file);
    const r = parseResendEvent(raw);
    if (!r.ok) throw new Error(`${file}: ${r.reason} ${r.detail ?? ''}`);
    expect(r.event.type).toBe(JSON.parse(raw).type);
    expect(r.event.data.tags).toEqual({ category: 'confirm_email' });
    expect(deliveryUpdate(r.event)).toMatchObject({ providerId: r.event.data.email_id, messageId: null });
  });
});
