import { eq, or } from 'drizzle-orm';
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
  return slug || 'tenant';
}

/** A tenant by id or slug, or null. */
export async function findTenant(db: DbOrTx, ref: string): Promise<Tenant | null> {
  const where = UUID.test(ref)
    ? or(eq(tenants.id, ref), eq(tenants.slug, ref))
    : eq(tenants.slug, slugify(ref));
  const [row] = await db.select().from(tenants).where(where).limit(1);
  return row ?? null;
}

export async function getTenant(db: DbOrTx, ref: string): Promise<Tenant> {
  const t = await findTenant(db, ref);
  if (!t) throw notFound(`tenant ${ref}`);
  return t;
}

/** Finds the tenant named `name`, creating it with `source` when missing (concurrency-safe upsert). */
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
