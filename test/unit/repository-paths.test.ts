/**
 * The project carries what it needs: nothing in it reads a file by a path of the machine it was
 * written on, so a clone anywhere runs the same.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const FOLDERS = ['src', 'test', 'scripts', 'bench', 'schema'];
/** Paths of one machine: its work folder, or a folder beside the clone. */
const MACHINE_PATHS = [/\/work\//, /\.\.\/shared\b/];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('the repository', { timeout: 60_000 }, () => {
  it('reads nothing from a path outside itself', () => {
    const rootFiles = readdirSync(ROOT).filter((name) => !name.startsWith('.') && statSync(join(ROOT, name)).isFile());
    const offenders = [...FOLDERS.flatMap((f) => files(join(ROOT, f))), ...rootFiles.map((f) => join(ROOT, f))].flatMap((path) => {
      const text = readFileSync(path, 'utf8');
      return MACHINE_PATHS.filter((re) => re.test(text)).map((re) => `${relative(ROOT, path)} matches ${re}`);
    });
    assert.deepEqual(offenders, []);
  });
});
