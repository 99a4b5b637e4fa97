/**
 * Purpose-bound keys derived from APP_SECRET with HKDF (so the app secret never signs or encrypts directly), and
 * the token vault built on one. Pure helpers shared by auth (vault, signed state), sync (stored connection tokens)
 * and dunning (unsubscribe and invoice-PDF links); they live outside the modules so none imports another.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { AppError } from './errors';

export function deriveKey(secret: string, purpose: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), `duely:${purpose}`, 32),
  );
}

/**
 * Sealing of stored secrets (OAuth token sets) with AES-256-GCM. The key is derived from APP_SECRET with HKDF, so
 * the app secret itself never encrypts data directly and other purposes can derive their own keys.
 * Format: `v1.<iv>.<tag>.<ciphertext>` (base64url); a wrong key or any tampering fails authentication.
 */
export class Vault {
  private readonly key: Buffer;
  constructor(appSecret: string) {
    this.key = deriveKey(appSecret, 'token-vault');
  }

  seal(value: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return [
      'v1',
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      ct.toString('base64url'),
    ].join('.');
  }

  open<T>(sealed: string): T {
    const [version, iv, tag, ct] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || ct === undefined) {
      throw new AppError('vault_format', 'stored credentials are not in a known format', 500);
    }
    try {
      // The full 16-byte tag only: Node otherwise accepts a tag cut to 4 bytes, which a forger can guess.
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'), {
        authTagLength: 16,
      });
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const pt = Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
      return JSON.parse(pt.toString('utf8')) as T;
    } catch (cause) {
      throw new AppError(
        'vault_key_mismatch',
        'stored credentials cannot be decrypted: APP_SECRET differs from the one they were sealed with',
        500,
        { cause },
      );
    }
  }
}
