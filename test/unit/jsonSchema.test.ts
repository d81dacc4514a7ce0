import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { configJsonSchema, configJsonSchemaText } from '../../src/config/jsonSchema.ts';
import { loadConfig } from '../../src/config/load.ts';
import { parseDurationMinutes } from '../../src/domain/duration.ts';

const CHECKED_IN = 'schema/sesame.schema.json';

function validator() {
  // Strict mode: a keyword Ajv does not know would mean the schema says less than it seems to.
  return new Ajv({ strict: true, allErrors: true }).compile(configJsonSchema());
}

function example(file = 'sesame.example.yml'): unknown {
  return parse(readFileSync(file, 'utf8'));
}

describe('config JSON Schema', () => {
  // --silent because npm prints its own banner on stdout, which would end up in the file.
  it('is checked in as the code produces it', () => {
    const checkedIn = readFileSync(CHECKED_IN, 'utf8');
    assert.ok(
      checkedIn === configJsonSchemaText(),
      `${CHECKED_IN} is out of date with src/config/schema.ts. Run: npm run --silent sesame -- schema > ${CHECKED_IN}`,
    );
  });

  it('accepts sesame.example.yml and sesame.aws.example.yml, as the zod schema does', () => {
    const validate = validator();
    for (const file of ['sesame.example.yml', 'sesame.aws.example.yml']) {
      assert.ok(validate(example(file)), `${file}: ${JSON.stringify(validate.errors, null, 2)}`);
      assert.ok(loadConfig(file, { LOCAL_PG_PASSWORD: 'dummy' }).integrations.length > 0);
    }
  });

  it('points editors at itself from the examples', () => {
    for (const file of ['sesame.example.yml', 'sesame.aws.example.yml']) {
      assert.match(readFileSync(file, 'utf8'), /^# yaml-language-server: \$schema=\.\/schema\/sesame\.schema\.json$/m);
    }
  });

  it('rejects what the zod schema rejects key by key', () => {
    const validate = validator();
    const broken = (mutate: (config: any) => void) => {
      const config = example() as any;
      mutate(config);
      return validate(config);
    };
    assert.equal(
      broken((c) => (c.integrations[0].sslMode = 'verify_everything')),
      false,
    );
    assert.equal(
      broken((c) => (c.integrations[0].sslmode = 'require')),
      false,
    );
    assert.equal(
      broken((c) => (c.integrations[0].type = 'mysql')),
      false,
    );
    assert.equal(
      broken((c) => (c.integrations[0].customAccessDetails = 'x'.repeat(401))),
      false,
    );
    assert.equal(
      broken((c) => (c.accessFlows[0].maxDuration = 'abc')),
      false,
    );
    assert.equal(
      broken((c) => (c.slack.command = 'access')),
      false,
    );
    assert.equal(
      broken((c) => delete c.integrations[0].host),
      false,
    );
    assert.equal(
      broken((c) => (c.integrations[0].customAccessDetails = 'x'.repeat(400))),
      true,
    );
  });

  it('describes keys so editors can explain them', () => {
    const text = configJsonSchemaText();
    assert.match(text, /"description": "The connector's own database user"/);
    assert.match(text, /"title": "Sesame configuration \(sesame.yml\)"/);
  });

  it('has a duration pattern that agrees with the duration parser', () => {
    const schema = configJsonSchema() as any;
    const pattern = new RegExp(schema.properties.accessFlows.items.properties.maxDuration.pattern, 'u');
    for (const text of ['15m', '2h', '1d', '1h30m', '1w2d', '2H', 'abc', '-1h', '1m30h', '', '15', '1.5h']) {
      let parses: boolean;
      try {
        parseDurationMinutes(text);
        parses = true;
      } catch {
        parses = false;
      }
      assert.equal(pattern.test(text), parses, `pattern and parser disagree on ${JSON.stringify(text)}`);
    }
  });
});
