import { eq, inArray, like, or } from 'drizzle-orm';
import { notFound } from '../../errors';
import type { DbOrTx } from '../client';
import { tenants } from '../schema';

export type Tenant = typeof tenants.$inferSelect;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  // A slug never has the shape of an id: a company named like another tenant's id would otherwise be addressed by
  // that id too (tests/security/tenant-address.test.ts).
  if (UUID.test(slug)) return `co-${slug}`;
  return slug || 'tenant';
}

/** A tenant by id or slug, or null. An id always finds its own tenant, whatever slug another one has. */
export async function findTenant(db: DbOrTx, ref: string): Promise<Tenant | null> {
  if (UUID.test(ref)) {
    const [byId] = await db.select().from(tenants).where(eq(tenants.id, ref));
    if (byId) return byId;
    // A slug of that shape from before slugs were kept apart from ids.
    const [bySlug] = await db.select().from(tenants).where(eq(tenants.slug, ref.toLowerCase()));
    return bySlug ?? null;
  }
  const [row] = await db
    .select()
    .from(tenants)
    .where(eq(tenants.slug, slugify(ref)))
    .limit(1);
  return row ?? null;
}

/** The tenants a principal sees: every tenant for the operator (`scope` null), else its own. */
export async function listTenants(db: DbOrTx, scope: string | null): Promise<Tenant[]> {
  const q = db.select().from(tenants);
  return scope === null ? q : q.where(eq(tenants.id, scope));
}

/** Tenant names by id. */
export async function tenantNames(db: DbOrTx, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: tenants.id, name: tenants.name })
    .from(tenants)
    .where(inArray(tenants.id, ids));
  return new Map(rows.map((t) => [t.id, t.name]));
}

export async function getTenant(db: DbOrTx, ref: string): Promise<Tenant> {
  const t = await findTenant(db, ref);
  if (!t) throw notFound(`tenant ${ref}`);
  return t;
}

/**
 * A new tenant for a company that connected (its identity is the connection's (provider, external id), never its
 * name): named `name`, with the first free slug among `acme`, `acme-2`, `acme-3`, … Two companies with the same
 * name get two tenants.
 */
export async function createTenant(
  db: DbOrTx,
  name: string,
  source: string,
  defaults: Partial<Pick<Tenant, 'timezone' | 'currency' | 'locale'>> = {},
): Promise<Tenant> {
  const base = slugify(name);
  // Taken slugs are few (same-named companies); one query finds them, the insert's conflict guard covers a race.
  const taken = new Set(
    (
      await db
        .select({ slug: tenants.slug })
        .from(tenants)
        .where(or(eq(tenants.slug, base), like(tenants.slug, `${base}-%`)))
    ).map((r) => r.slug),
  );
  for (let n = 1; ; n++) {
    const slug = n === 1 ? base : `${base}-${n}`;
    if (taken.has(slug)) continue;
    const [row] = await db
      .insert(tenants)
      .values({ slug, name, source, ...defaults })
      .onConflictDoNothing({ target: tenants.slug })
      .returning();
    if (row) return row;
  }
}

/**
 * The CSV tenant addressed by `name` (its slug), created with `source` when missing (concurrency-safe upsert).
 * Only for tenants whose address is their name (CSV imports, the CLI): a connected company's tenant is found by
 * its connection and created with `createTenant`.
 */
export async function ensureTenant(
  db: DbOrTx,
  name: string,
  source: string,
  defaults: Partial<Pick<Tenant, 'timezone' | 'currency' | 'locale'>> = {},
): Promise<Tenant> {
  const slug = slugify(name);
  await db
    .insert(tenants)
    .values({ slug, name, source, ...defaults })
    .onConflictDoNothing({ target: tenants.slug });
  const [row] = await db.select().from(tenants).where(eq(tenants.slug, slug));
  return row!;
}

/** Every tenant's id (the daily fan-out jobs). */
export async function allTenantIds(db: DbOrTx): Promise<string[]> {
  const rows = await db.select({ id: tenants.id }).from(tenants);
  return rows.map((r) => r.id);
}

/** A tenant by id, or null. */
export async function tenantById(db: DbOrTx, id: string): Promise<Tenant | null> {
  const [row] = await db.select().from(tenants).where(eq(tenants.id, id));
  return row ?? null;
}

/** Where the tenant's ledger comes from now (a CSV tenant that connected its ledger: the provider). */
export async function setTenantSource(db: DbOrTx, id: string, source: string, now: Date): Promise<void> {
  await db.update(tenants).set({ source, updatedAt: now }).where(eq(tenants.id, id));
}
