import { describe, expect, it } from 'vitest';
import { StateSigner } from '../../src/auth/signed-state';
import { Vault } from '../../src/auth/vault';

const SECRET = 'a-very-long-app-secret-0123456789abcdef';
const OTHER = 'another-long-app-secret-0123456789abcdef';

describe('Vault (AES-256-GCM)', () => {
  const tokens = { accessToken: 'at-1', refreshToken: 'rt-1', accessExpiresAt: '2026-01-01T00:00:00.000Z' };

  it('round-trips a value and never stores it in clear', () => {
    const v = new Vault(SECRET);
    const sealed = v.seal(tokens);
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('rt-1');
    expect(v.open(sealed)).toEqual(tokens);
    // A fresh IV each time: the same value seals differently.
    expect(v.seal(tokens)).not.toBe(sealed);
  });

  it('rejects tampering with any part', () => {
    const v = new Vault(SECRET);
    const sealed = v.seal(tokens);
    const parts = sealed.split('.');
    for (const i of [1, 2, 3]) {
      const p = [...parts];
      const s = p[i] ?? '';
      p[i] = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
      expect(() => v.open(p.join('.'))).toThrow();
    }
    expect(() => v.open('v2.x.y.z')).toThrow(/known format/);
    expect(() => v.open('garbage')).toThrow();
  });

  it('refuses a shortened tag (Node would check only its first bytes: a 4-byte tag is a guess of 2^32)', () => {
    const v = new Vault(SECRET);
    const [version, iv, tag, ct] = v.seal(tokens).split('.');
    const short = Buffer.from(tag!, 'base64url').subarray(0, 4).toString('base64url');
    expect(() => v.open([version, iv, short, ct].join('.'))).toThrow();
  });

  it('fails with a clear error under a different key', () => {
    const sealed = new Vault(SECRET).seal(tokens);
    expect(() => new Vault(OTHER).open(sealed)).toThrow(/APP_SECRET differs/);
  });
});

describe('StateSigner', () => {
  const now = new Date('2026-11-27T10:00:00Z');

  it('signs a state with a nonce and verifies it before expiry', () => {
    const s = new StateSigner(SECRET);
    const { state, nonce } = s.sign({ p: 'quickbooks' }, now, 60_000);
    expect(nonce.length).toBeGreaterThanOrEqual(16);
    expect(s.verify(state, new Date(now.getTime() + 59_000))).toMatchObject({ p: 'quickbooks', n: nonce });
  });

  it('refuses an expired state', () => {
    const s = new StateSigner(SECRET);
    const { state } = s.sign({}, now, 60_000);
    expect(s.verify(state, new Date(now.getTime() + 60_001))).toBeNull();
  });

  it('refuses tampered payloads, signatures, other keys and other purposes', () => {
    const s = new StateSigner(SECRET);
    const { state } = s.sign({ p: 'quickbooks' }, now);
    const [body, mac] = state.split('.') as [string, string];
    const forged = Buffer.from(
      JSON.stringify({ p: 'quickbooks', n: 'mine', exp: now.getTime() + 1e9 }),
    ).toString('base64url');
    expect(s.verify(`${forged}.${mac}`, now)).toBeNull();
    expect(s.verify(`${body}.${mac.slice(0, -2)}xx`, now)).toBeNull();
    expect(s.verify(body, now)).toBeNull();
    expect(s.verify('', now)).toBeNull();
    expect(new StateSigner(OTHER).verify(state, now)).toBeNull();
    expect(new StateSigner(SECRET, 'other-purpose').verify(state, now)).toBeNull();
  });
});
