/** What every page receives from the app shell (its own module, so pages never import the nav registry). */
export interface PageProps {
  tenant: string;
  currency: string;
  params: Record<string, string>;
  /** After a CSV is uploaded as a new company (Connections): switch the app to it. */
  onCompanyCreated?: (slug: string) => Promise<void>;
}
