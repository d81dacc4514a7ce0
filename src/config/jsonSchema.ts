import { z } from 'zod';
import { configSchema } from './schema.ts';

/**
 * The JSON Schema of `sesame.yml`, generated from the zod schema so the two never disagree. It
 * describes what a person writes (`io: 'input'`: durations as text, defaults optional). Draft-07
 * because that is the draft every editor's YAML and JSON language server understands.
 * Cross-field rules (unique names, password or secretArn, …) cannot be expressed here; `sesame
 * check` reports them.
 */
export function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-7' });
  return {
    $schema: generated.$schema,
    title: 'Sesame configuration (sesame.yml)',
    description:
      'Just-in-time, time-bound access to PostgreSQL from Slack. ${NAME} in any string value is replaced by the environment variable NAME.',
    ...generated,
  };
}

/**
 * The JSON Schema as checked in at `schema/sesame.schema.json` and printed by `sesame schema`:
 * two-space indented, with a final newline.
 */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
