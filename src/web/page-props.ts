/** What every page receives from the app shell (its own module, so pages never import the nav registry). */
export interface PageProps {
  tenant: string;
  currency: string;
  params: Record<string, string>;
}
