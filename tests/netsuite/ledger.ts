/** The test's stand-in for Duely's ledger: applies SyncPages exactly as the SyncPage contract describes. */
import type {
  CanonicalCreditMemo,
  CanonicalCustomer,
  CanonicalInvoice,
  CanonicalPayment,
} from '../../connectors/canonical';
import type { EntityKind, ListingKind, SyncPage } from '../../connectors/types';

type Rec = CanonicalCustomer | CanonicalInvoice | CanonicalPayment | CanonicalCreditMemo;
/** Record kinds' listings; journal entries' (their rows are credit memos here) are left to the real ledger's tests. */
const isEntityKind = (k: ListingKind): k is EntityKind => k !== 'journalEntries';

export class TestLedger<C> {
  readonly stores: Record<EntityKind, Map<string, Rec>> = {
    customers: new Map(),
    invoices: new Map(),
    payments: new Map(),
    creditMemos: new Map(),
  };
  private readonly seen: Partial<Record<EntityKind, Set<string>>> = {};
  cursor: C | null = null;
  pages = 0;

  apply(page: SyncPage<C>): void {
    this.pages++;
    for (const kind of (page.listingStarts ?? []).filter(isEntityKind)) this.seen[kind] = new Set();
    for (const kind of Object.keys(this.stores) as EntityKind[]) {
      for (const r of page[kind]) this.stores[kind].set(r.externalId, r);
      for (const d of page.deletions[kind]) this.stores[kind].delete(d.externalId);
      for (const id of page.seen?.[kind] ?? []) this.seen[kind]?.add(id);
    }
    if (page.listingComplete) {
      const { kinds, asOf } = page.listingComplete;
      for (const kind of kinds.filter(isEntityKind)) {
        const seen = this.seen[kind] ?? new Set();
        for (const [id, r] of this.stores[kind]) {
          if (!seen.has(id) && !(r.sourceUpdatedAt && r.sourceUpdatedAt >= asOf))
            this.stores[kind].delete(id);
        }
        delete this.seen[kind];
      }
    }
    this.cursor = page.cursor;
  }

  get invoices(): Map<string, CanonicalInvoice> {
    return this.stores.invoices as Map<string, CanonicalInvoice>;
  }
}
