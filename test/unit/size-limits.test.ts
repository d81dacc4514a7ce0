import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAX_FILE_LINES = 450;
const MAX_FUNCTION_LINES = 80;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function lineCount(text: string): number {
  return text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
}

/** Every function, method, accessor and arrow with a body longer than `max` lines, as `file:line name (n lines)`. */
export function longFunctions(file: string, text: string, max: number): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > max) {
        const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)';
        found.push(`${relative(ROOT, file)}:${first + 1} ${name} (${lines} lines)`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('sizes a reader can hold in mind', { timeout: 60_000 }, () => {
  const files = sourceFiles(join(ROOT, 'src'));

  it(`no source file is over ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map((file) => ({ file, lines: lineCount(readFileSync(file, 'utf8')) }))
      .filter((f) => f.lines > MAX_FILE_LINES)
      .map((f) => `${relative(ROOT, f.file)} (${f.lines} lines)`);
    assert.deepEqual(long, [], `split these by job: ${long.join(', ')}`);
  });

  it(`no function in the source is over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = files.flatMap((file) => longFunctions(file, readFileSync(file, 'utf8'), MAX_FUNCTION_LINES));
    assert.deepEqual(long, [], `split these into named steps: ${long.join(', ')}`);
  });

  it('the check sees a long function, a long method and a long arrow', () => {
    const body = Array.from({ length: MAX_FUNCTION_LINES }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const text = `function f() {\n${body}\n}\nclass C {\n  m() {\n${body}\n  }\n}\nconst a = () => {\n${body}\n};\nfunction short() {\n  return 1;\n}\n`;
    const names = longFunctions(join(ROOT, 'src/x.ts'), text, MAX_FUNCTION_LINES).map((l) => l.split(' ')[1]);
    assert.deepEqual(names, ['f', 'm', '(anonymous)']);
  });
});
