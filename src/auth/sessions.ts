/**
 * Sign-in for the settings app.
 *
 * One-time login links: `duely serve` (and `duely login`) print `PUBLIC_URL/login?token=…`. The token is
 * `dll_<payload>.<hmac>`: an HMAC-signed payload (random nonce, tenant, expiry) so forged or expired links are
 * refused before the database is asked; the database keeps only its SHA-256 and marks it used atomically on
 * redemption, so a link works once.
 *
 * Sessions: the cookie holds a random secret (`dss_…`); only its SHA-256 is stored. A session is bound to one
 * tenant, or to none for the operator. The CSRF token is an HMAC of the cookie secret under a key derived from
 * APP_SECRET: the SPA reads it from GET /api/v1/session and sends it as `x-csrf-token` on every state-changing
 * request; a cross-site page can neither read it nor compute it.
 *
 * "Sign in with Intuit" (OpenID Connect) runs on the generic connect routes (src/http/routes/connect.ts): once the
 * ID token is verified it calls `createSession({ method: 'intuit_openid', user })` for the tenant of that company.
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DbOrTx } from '../db/client';
import {
  insertLoginToken,
  insertSession,
  liveLoginToken,
  revokeSession,
  revokeSessionsLike,
  type Session,
  sessionById,
  sessionByTokenHash,
  spendLoginToken,
  touchSession,
} from '../db/queries/sessions';
import { markSignedIn, type User, userById } from '../db/queries/users';

export type { Session } from '../db/queries/sessions';
/** A live session and the person it belongs to (null: an operator or admin-link session, which acts as admin). */
export type SessionWithUser = Session & { person: User | null };

export const SESSION_COOKIE = 'duely_session';
export const CSRF_HEADER = 'x-csrf-token';
export const LOGIN_LINK_TTL_MS = 15 * 60_000;
export const SESSION_TTL_MS = 12 * 3_600_000;
/** A session unused this long ends, whatever its absolute expiry (a browser left open on a shared desk). */
export const SESSION_IDLE_MS = 2 * 3_600_000;
/** lastSeenAt is refreshed at most this often, so reads do not write on every request. */
const TOUCH_INTERVAL_MS = 5 * 60_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const key = (secret: string, purpose: string) =>
  Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), `duely:${purpose}`, 32));
const hmac = (k: Buffer, s: string) => createHmac('sha256', k).update(s).digest('base64url');

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class SessionAuth {
  private readonly linkKey: Buffer;
  private readonly csrfKey: Buffer;
  constructor(
    private readonly db: DbOrTx,
    appSecret: string,
  ) {
    this.linkKey = key(appSecret, 'login-link');
    this.csrfKey = key(appSecret, 'csrf');
  }

  /** Issues a one-time login token (shown once; only its hash is stored). */
  async issueLoginToken(opts: {
    tenantId: string | null;
    /** The person the link signs in; omitted for the operator's admin link. */
    userId?: string | null;
    label: string;
    now: Date;
    ttlMs?: number;
    /** The caller's transaction, when the token is part of a larger write (an invitation). */
    db?: DbOrTx;
  }): Promise<string> {
    const exp = opts.now.getTime() + (opts.ttlMs ?? LOGIN_LINK_TTL_MS);
    const payload = Buffer.from(
      JSON.stringify({ n: randomBytes(18).toString('base64url'), t: opts.tenantId, exp }),
    ).toString('base64url');
    const token = `dll_${payload}.${hmac(this.linkKey, payload)}`;
    await insertLoginToken(opts.db ?? this.db, {
      tokenHash: sha256(token),
      tenantId: opts.tenantId,
      userId: opts.userId ?? null,
      label: opts.label,
      expiresAt: new Date(exp),
    });
    return token;
  }

  /**
   * Redeems a login token once: the tenant it signs in (null: operator) and the person (null: an admin link), or
   * null when invalid, expired, used, or its person was disabled since.
   */
  async redeemLoginToken(
    token: string,
    now: Date,
  ): Promise<{ tenantId: string | null; userId: string | null } | null> {
    if (!this.signedAndUnexpired(token, now)) return null;
    const row = await spendLoginToken(this.db, sha256(token), now);
    if (!row) return null;
    if (row.userId) {
      const person = await userById(this.db, row.userId);
      if (!person || person.status === 'disabled') return null;
      await markSignedIn(this.db, person.id, now);
    }
    return { tenantId: row.tenantId, userId: row.userId };
  }

  /**
   * Who a login token would sign in, without spending it: its tenant (null: the operator) and person (null: an admin
   * link), or null when redeeming it would fail (forged, expired, used, its person disabled or removed). The sign-in
   * page names them, so a link someone else sent is not redeemed blind.
   */
  async peekLoginToken(
    token: string,
    now: Date,
  ): Promise<{ tenantId: string | null; person: User | null } | null> {
    if (!this.signedAndUnexpired(token, now)) return null;
    const row = await liveLoginToken(this.db, sha256(token), now);
    if (!row) return null;
    if (!row.userId) return { tenantId: row.tenantId, person: null };
    const person = await userById(this.db, row.userId);
    if (!person || person.status === 'disabled') return null;
    return { tenantId: row.tenantId, person };
  }

  /** The token's shape, signature and signed expiry: checked before the database is asked. */
  private signedAndUnexpired(token: string, now: Date): boolean {
    const m = /^dll_([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token);
    if (!m || !safeEqual(hmac(this.linkKey, m[1]!), m[2]!)) return false;
    let exp: unknown;
    try {
      exp = (JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    } catch {
      return false;
    }
    return typeof exp === 'number' && exp > now.getTime();
  }

  async createSession(opts: {
    tenantId: string | null;
    /** `connect`: the first admin of a tenant a signed-out OAuth connect created (the provider names no person). */
    method: 'login_link' | 'intuit_openid' | 'email_link' | 'connect';
    now: Date;
    /** The person signed in (users row); null for the operator's admin link. */
    userId?: string | null;
    ttlMs?: number;
    /** The signed-in person, when the identity provider told us (Sign in with Intuit). */
    user?: { sub: string; email: string | null; name: string | null };
  }): Promise<{ token: string; session: Session }> {
    const token = `dss_${randomBytes(32).toString('base64url')}`;
    const session = await insertSession(this.db, {
      tokenHash: sha256(token),
      tenantId: opts.tenantId,
      userId: opts.userId ?? null,
      method: opts.method,
      userSub: opts.user?.sub ?? null,
      userEmail: opts.user?.email ?? null,
      userName: opts.user?.name ?? null,
      expiresAt: new Date(opts.now.getTime() + (opts.ttlMs ?? SESSION_TTL_MS)),
      lastSeenAt: opts.now,
    });
    return { token, session };
  }

  /** The live session for a cookie value and its person, or null (unknown, revoked, expired, idle, disabled). */
  async verifySession(token: string, now: Date): Promise<SessionWithUser | null> {
    const checked = await this.checkSession(token, now);
    return 'session' in checked ? checked.session : null;
  }

  /**
   * verifySession, telling apart a session that ended (it was issued: signed out, expired, idle, its person
   * disabled) from a cookie that was never one (a guess): only guesses count against the address's failures.
   */
  async checkSession(token: string, now: Date): Promise<{ session: SessionWithUser } | { ended: boolean }> {
    if (!token.startsWith('dss_')) return { ended: false };
    const found = await sessionByTokenHash(this.db, sha256(token));
    if (!found) return { ended: false };
    const row: SessionWithUser = { ...found.session, person: found.person };
    if (row.revokedAt || row.expiresAt.getTime() <= now.getTime()) return { ended: true };
    if (row.person?.status === 'disabled') return { ended: true };
    const lastSeen = (row.lastSeenAt ?? row.createdAt).getTime();
    if (now.getTime() - lastSeen > SESSION_IDLE_MS) return { ended: true };
    if (!row.lastSeenAt || now.getTime() - row.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
      await touchSession(this.db, row.id, now);
    }
    return { session: row };
  }

  /**
   * Whether the session `id` is still one of `tenantId`'s admins: not revoked (signed out, its person disabled),
   * not expired, its person (if any: none is an admin link) still there, active and an admin. For a round trip the
   * session started and a request finishes without its cookie (an OAuth connect returning to a top-level page, where
   * the Partitioned cookie of the framed app is not sent). Idleness is not checked: the trip itself is bounded.
   */
  async isLiveAdminSession(id: string, tenantId: string, now: Date): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
    const found = await sessionById(this.db, id);
    if (!found) return false;
    const { session, person } = found;
    if (session.revokedAt || session.expiresAt.getTime() <= now.getTime()) return false;
    if (session.tenantId !== tenantId) return false;
    if (session.userId === null) return true;
    return person !== null && person.status !== 'disabled' && person.role === 'admin';
  }

  async revokeSession(id: string, now: Date): Promise<void> {
    await revokeSession(this.db, id, now);
  }

  /**
   * "Sign out everywhere": every live session of this session's person; for an admin-link session (no person),
   * every admin-link session of the same tenant (or of the operator). Returns how many ended.
   */
  async revokeEverywhere(session: Session, now: Date): Promise<number> {
    return revokeSessionsLike(this.db, session, now);
  }

  csrfToken(sessionToken: string): string {
    return hmac(this.csrfKey, sessionToken);
  }

  checkCsrf(sessionToken: string, given: string | undefined): boolean {
    return typeof given === 'string' && safeEqual(this.csrfToken(sessionToken), given);
  }
}

/**
 * Cookie attributes for the session. Over https the app may be framed by the ledger's web app (Intuit), a third-party context, so the
 * cookie must be SameSite=None; Secure (and Partitioned, CHIPS, so browsers that block third-party cookies keep it
 * per top-level site). On plain http (localhost) Secure is impossible, so Lax.
 */
export function sessionCookieOptions(publicUrl: string, maxAgeMs = SESSION_TTL_MS) {
  const https = publicUrl.startsWith('https://');
  return {
    path: '/',
    httpOnly: true,
    secure: https,
    sameSite: https ? ('none' as const) : ('lax' as const),
    partitioned: https,
    maxAge: Math.floor(maxAgeMs / 1000),
  };
}
