import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The module specifiers a source text imports or re-exports, type-only ones included. */
function importsIn(text: string): string[] {
  const specifiers: string[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+['"]([^'"]+)['"]/gms)) specifiers.push(match[1]!);
  for (const match of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) specifiers.push(match[1]!);
  for (const match of text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(match[1]!);
  return specifiers;
}

/**
 * Every import under `dir` that resolves into one of `forbidden` (paths relative to the
 * repository), as `file: specifier` lines.
 */
function importsInto(dir: string, forbidden: string[]): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(join(ROOT, dir))) {
    for (const specifier of importsIn(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = relative(ROOT, resolve(dirname(file), specifier));
      if (forbidden.some((f) => target === f || target.startsWith(`${f}/`))) found.push(`${relative(ROOT, file)}: ${specifier}`);
    }
  }
  return found;
}

/** Database drivers and cloud SDKs: only adapters may use them. */
const DRIVERS = ['pg', 'better-sqlite3', '@slack/', '@aws-sdk/'];

/** Every package import under `dir` that names one of `packages` (a prefix), as `file: specifier`. */
function packagesIn(dir: string, packages: string[]): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(join(ROOT, dir))) {
    for (const specifier of importsIn(readFileSync(file, 'utf8'))) {
      if (packages.some((p) => specifier === p || specifier.startsWith(p.endsWith('/') ? p : `${p}/`)))
        found.push(`${relative(ROOT, file)}: ${specifier}`);
    }
  }
  return found;
}

describe('import directions', () => {
  it('the Slack adapter imports no store or database type', () => {
    const found = importsInto('src/adapters/slack', [
      'src/ports/StateStore.ts',
      'src/ports/TargetDatabase.ts',
      'src/adapters/sqlite',
      'src/adapters/postgres',
      'src/adapters/postgresState',
      'src/adapters/stateTables',
      // The whole of Sesame carries the store and the databases.
      'src/app.ts',
    ]);
    assert.deepEqual(found, [], `the Slack edge reaches the store or a database:\n${found.join('\n')}`);
  });

  it('the domain, the services and the ports import no adapter, no driver and no SDK', () => {
    for (const layer of ['src/domain', 'src/services', 'src/ports']) {
      const found = [...importsInto(layer, ['src/adapters', 'src/app.ts', 'src/main.ts', 'src/cli.ts']), ...packagesIn(layer, DRIVERS)];
      assert.deepEqual(found, [], `${layer} reaches an adapter or a driver:\n${found.join('\n')}`);
    }
  });

  it("the domain, the services and the ports import no config schema: the core's types are its own", () => {
    for (const layer of ['src/domain', 'src/services', 'src/ports']) {
      const found = importsInto(layer, ['src/config/schema.ts']);
      assert.deepEqual(found, [], `${layer} reaches the config schema:\n${found.join('\n')}`);
    }
  });

  it('the domain and the ports import no service', () => {
    for (const layer of ['src/domain', 'src/ports']) {
      const found = importsInto(layer, ['src/services']);
      assert.deepEqual(found, [], `${layer} reaches a service:\n${found.join('\n')}`);
    }
  });

  it('adapters other than the Slack edge import no service, and no adapter imports another technology', () => {
    // stateTables is no adapter: it is the state's table layout that both state stores share.
    const adapters = ['aws', 'postgres', 'postgresState', 'sqlite', 'slack', 'log'];
    for (const adapter of adapters) {
      const others = adapters.filter((a) => a !== adapter).map((a) => `src/adapters/${a}`);
      // The Slack edge turns clicks into use cases: it calls the services, by design.
      const forbidden = adapter === 'slack' ? others : [...others, 'src/services'];
      // The PostgreSQL state store speaks the same driver as the access engine: it shares its
      // TLS modes and the password guard of its connections, and nothing else of it.
      const found = importsInto(`src/adapters/${adapter}`, forbidden).filter(
        (f) => !(adapter === 'postgresState' && f.endsWith(': ../postgres/connection.ts')),
      );
      assert.deepEqual(found, [], `src/adapters/${adapter} reaches across:\n${found.join('\n')}`);
    }
  });

  it('sees imports written over several lines, re-exports, side-effect and dynamic imports', () => {
    // Guards the check above against passing because it cannot see a multi-line import.
    const text =
      "import {\n  a,\n  b,\n} from '../../ports/StateStore.ts';\nexport type { C } from './c.ts';\nconst d = await import('./d.ts');\nimport './e.ts';";
    assert.deepEqual(importsIn(text), ['../../ports/StateStore.ts', './c.ts', './e.ts', './d.ts']);
  });
});
