import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.ts';
import { ConfigError } from '../../src/domain/errors.ts';

/** The issues a config text raises, as `path: message` lines (none when it is accepted). */
export function configProblems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfigText(text, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${err}`);
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}
