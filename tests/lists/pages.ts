/** A list page as the API answers it. */
export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
}

/** Every page of a list, following nextCursor; `json` fetches one path (the suite's authenticated GET). */
export async function allPages<T>(
  json: (path: string) => Promise<ListPage<T>>,
  path: string,
  limit: number,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await json(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    out.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) return out;
  }
  throw new Error('too many pages');
}
