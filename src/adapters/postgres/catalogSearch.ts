import type { CatalogQuery } from '../../ports/TargetDatabase.ts';
import type { CatalogPage } from './statements.ts';

/** Slack shows at most 100 options in a select. */
export const CATALOG_MAX = 100;

/** Names read per statement while SQL can only narrow a search, not decide it. */
export const CATALOG_BATCH = 500;

/**
 * The most names one search reads while SQL can only narrow it (a search with letters outside
 * ASCII, such as "Über"): a keystroke then costs at most CATALOG_SCAN_CAP / CATALOG_BATCH
 * statements, well inside the 3 seconds Slack waits for options. A search that finds fewer
 * names than it wants within them returns those it found, in name order; typing more of the
 * name (its ASCII letters narrow the search in SQL) finds the rest.
 */
export const CATALOG_SCAN_CAP = 2_000;

/**
 * A PostgreSQL name is at most 63 bytes, so at most 63 characters, each lowercasing to at most
 * two: a longer search matches nothing and needs no statement.
 */
const LONGEST_LOWERCASED_NAME = 126;

/** Reads one page of a catalog, in name order. */
export type CatalogReader = (page: CatalogPage) => Promise<readonly { name: string }[]>;

/**
 * The names of a catalog containing `search`, case-insensitive by Unicode's default case mapping
 * (the same for every server locale and process locale), at most `limit` (default and most
 * {@link CATALOG_MAX}), in name order.
 *
 * SQL narrows the search by the ASCII pieces of the lowercased search, compared ignoring ASCII
 * case, which keeps every name that matches; Sesame then decides on each name read. For a search
 * all in ASCII, what SQL keeps is what matches (but for the rare names holding İ or K), so one
 * page of `limit` names suffices. Otherwise pages of {@link CATALOG_BATCH} are read after the
 * last name seen until enough names match or {@link CATALOG_SCAN_CAP} names were read.
 */
export async function searchCatalog(read: CatalogReader, { search, limit }: CatalogQuery): Promise<string[]> {
  const wanted = Number.isFinite(limit) ? Math.max(1, Math.min(CATALOG_MAX, Math.floor(limit!))) : CATALOG_MAX;
  const needle = (search ?? '').trim().toLowerCase();
  if ([...needle].length > LONGEST_LOWERCASED_NAME || needle.includes('\u0000')) return [];
  const fragments = needle.split(/[^\u0000-\u007f]+/).filter((f) => f !== '');
  const narrowedOnly = fragments.join('') !== needle;
  const batch = narrowedOnly ? CATALOG_BATCH : wanted;
  const found: string[] = [];
  let after: string | undefined;
  for (let scanned = 0; scanned < CATALOG_SCAN_CAP; ) {
    const rows = await read({ fragments, limit: batch, ...(after !== undefined ? { after } : {}) });
    for (const { name } of rows) {
      if (name.toLowerCase().includes(needle)) found.push(name);
      if (found.length === wanted) return found;
    }
    if (rows.length < batch) break;
    scanned += rows.length;
    after = rows[rows.length - 1]!.name;
  }
  return found;
}
