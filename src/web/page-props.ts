import type { ImportResult } from './lib/contracts';

/** What every page receives from the app shell (its own module, so pages never import the nav registry). */
export interface PageProps {
  tenant: string;
  currency: string;
  params: Record<string, string>;
  /** After a CSV is uploaded as a new company (Connections): switch the app to it, keeping the import's summary. */
  onCompanyCreated?: (slug: string, imported: ImportResult) => Promise<void>;
  /** The upload that created this company, when the app has just switched to it: Connections shows its summary. */
  imported?: ImportResult;
}
