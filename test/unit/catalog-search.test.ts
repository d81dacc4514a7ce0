import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATALOG_BATCH, CATALOG_MAX, CATALOG_SCAN_CAP, searchCatalog } from '../../src/adapters/postgres/catalogSearch.ts';
import { catalogTables, type CatalogPage } from '../../src/adapters/postgres/statements.ts';
import { InputError } from '../../src/domain/errors.ts';

/** A catalog of `names` read the way the SQL reads it: keyset, ASCII-only case folding, limit. */
function catalog(names: string[]) {
  const pages: CatalogPage[] = [];
  const sorted = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const read = async (page: CatalogPage) => {
    pages.push(page);
    const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const pattern = new RegExp(page.fragments.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*'));
    return sorted
      .filter((n) => page.after === undefined || Buffer.compare(Buffer.from(n), Buffer.from(page.after)) > 0)
      .filter((n) => page.fragments.length === 0 || pattern.test(asciiLower(n)) || /[\u0130\u212a]/.test(n))
      .slice(0, page.limit)
      .map((name) => ({ name }));
  };
  return { pages, read };
}

describe('catalog search', { timeout: 10_000 }, () => {
  it('narrows by the ASCII pieces of the lowercased search, and decides with Unicode case', async () => {
    const c = catalog(['Überstunden', 'ueberstunden', 'zeiterfassung', 'ÜBERSICHT_2024', 'UBERSTUNDEN']);
    assert.deepEqual(await searchCatalog(c.read, { search: '  ÜBER ' }), ['ÜBERSICHT_2024', 'Überstunden']);
    assert.deepEqual(c.pages, [{ fragments: ['ber'], limit: CATALOG_BATCH }]);
    c.pages.length = 0;
    assert.deepEqual(await searchCatalog(c.read, { search: 'Zeit' }), ['zeiterfassung']);
    assert.deepEqual(c.pages, [{ fragments: ['zeit'], limit: CATALOG_MAX }], 'an ASCII search: one page of the limit');
  });

  it('pages after the last name seen, and stops at the cap', async () => {
    const names = Array.from({ length: CATALOG_SCAN_CAP + 10 }, (_, i) => `n${String(i).padStart(5, '0')}`);
    const c = catalog([...names, 'zÖ']);
    assert.deepEqual(await searchCatalog(c.read, { search: 'ö' }), [], 'the match lies beyond the cap');
    assert.equal(c.pages.length, CATALOG_SCAN_CAP / CATALOG_BATCH);
    assert.equal(c.pages[1]!.after, names[CATALOG_BATCH - 1]);
  });

  it('keeps the limit between 1 and CATALOG_MAX, and reads nothing for a search no name can hold', async () => {
    const c = catalog(Array.from({ length: 300 }, (_, i) => `t${i}`));
    assert.equal((await searchCatalog(c.read, { limit: 5 })).length, 5);
    assert.equal((await searchCatalog(c.read, { limit: 0 })).length, 1);
    assert.equal((await searchCatalog(c.read, { limit: 10_000 })).length, CATALOG_MAX);
    assert.equal((await searchCatalog(c.read, { limit: Number.NaN })).length, CATALOG_MAX);
    c.pages.length = 0;
    assert.deepEqual(await searchCatalog(c.read, { search: 'é'.repeat(127) }), []);
    assert.deepEqual(await searchCatalog(c.read, { search: 'a\u0000b' }), []);
    assert.equal(c.pages.length, 0);
  });

  it('builds statements with parameters, a keyset and a LIMIT, and refuses an unbounded page', () => {
    const s = catalogTables('sales', { fragments: ['50%_off'], after: 'deals', limit: 100 });
    assert.match(
      s.text,
      /c\.relname COLLATE "C" ILIKE \$2 OR c\.relname ~ \$3\)\n {3}AND c\.relname > \$4\n ORDER BY c\.relname\n LIMIT \$5$/,
    );
    assert.deepEqual(s.values, ['sales', '%50\\%\\_off%', '[\\u0130\\u212a]', 'deals', 100]);
    assert.throws(() => catalogTables('sales', { fragments: [], limit: 0 }), InputError);
    assert.throws(() => catalogTables('sales', { fragments: [], limit: Number.POSITIVE_INFINITY }), InputError);
  });
});
