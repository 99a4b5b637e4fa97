/**
 * Signed, expiring values for OAuth `state` (CSRF) and similar round trips: base64url(JSON) + "." + HMAC-SHA256.
 * Verification is constant-time and checks the expiry against the injected clock.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey } from '../keys';

export interface StatePayload {
  /** Random nonce, also set in a cookie so the state is bound to the browser that started the flow. */
  n: string;
  /** Expiry, epoch ms. */
  exp: number;
  [key: string]: unknown;
}

export class StateSigner {
  private readonly key: Buffer;
  constructor(appSecret: string, purpose = 'oauth-state') {
    this.key = deriveKey(appSecret, purpose);
  }

  sign(data: Record<string, unknown>, now: Date, ttlMs = 10 * 60_000): { state: string; nonce: string } {
    const nonce = randomBytes(16).toString('base64url');
    const payload: StatePayload = { ...data, n: nonce, exp: now.getTime() + ttlMs };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return { state: `${body}.${this.mac(body)}`, nonce };
  }

  /** The payload when the signature is valid and unexpired, else null. */
  verify(state: string, now: Date): StatePayload | null {
    const [body, mac] = state.split('.');
    if (!body || !mac) return null;
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as StatePayload;
      if (typeof payload.exp !== 'number' || payload.exp < now.getTime()) return null;
      return payload;
    } catch {
      return null;
    }
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
