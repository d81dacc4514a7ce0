import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../domain/errors.ts';
import { registerSecret } from '../logger.ts';
import { configSchema, type Config } from './schema.ts';

/** Where the config is read from when `SESAME_CONFIG` is not set (PRODUCT.md §2). */
export const DEFAULT_CONFIG_PATH = './sesame.yml';

/** The config file's path as the environment gives it: `$SESAME_CONFIG`, else `./sesame.yml`. */
export function configPathFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.SESAME_CONFIG || DEFAULT_CONFIG_PATH;
}

/**
 * Reads, interpolates and validates the config file at `path` (relative to the working
 * directory). Every problem is reported at once in one {@link ConfigError}; a missing file says
 * where Sesame looked and how to point it elsewhere.
 */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? `no config file at ${absolute}. Set SESAME_CONFIG to the config file's path (default ${DEFAULT_CONFIG_PATH}), or start from sesame.example.yml.`
        : `cannot read the config file at ${absolute} (${code ?? 'unknown error'}). Check that it is a readable file, or set SESAME_CONFIG to another path.`;
    throw new ConfigError([{ path: '', message }]);
  }
  return parseConfigText(text, env, absolute);
}

/**
 * Parses the text of a config file: YAML, then `${NAME}` interpolation from `env` in every string
 * value (`$${` writes a literal `${`), then the schema. With `fileName`, relative paths in the
 * config (`state.sqlite`, `sslRootCert`) are resolved against the file's directory and YAML
 * syntax errors are located as `file:line:column`; without it, paths are returned as written.
 *
 * The values of `password` and `secret` keys and of interpolated variables whose names suggest a
 * secret are removed from every message, and registered with the logger so that no later log
 * line shows them.
 */
export function parseConfigText(text: string, env: NodeJS.ProcessEnv = process.env, fileName?: string): Config {
  const lineCounter = new LineCounter();
  // Pretty errors quote the offending source line, which may hold a password.
  const doc = parseDocument(text, { prettyErrors: false, lineCounter });
  const secrets = new Set<string>(secretVariableValues(text, env));

  const syntaxProblems = [...doc.errors, ...doc.warnings];
  if (syntaxProblems.length > 0) {
    const where = fileName ?? 'sesame.yml';
    throw sanitized(
      syntaxProblems.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return {
          path: `${where}:${line}:${col}`,
          message: `is not valid YAML at line ${line}, column ${col}: ${e.message}`,
        };
      }),
      secrets,
    );
  }
  if (doc.contents === null) {
    throw new ConfigError([{ path: '', message: 'the config file is empty. Start from sesame.example.yml, which shows every key.' }]);
  }

  const interpolation = interpolate(doc.toJS() as unknown, env, []);
  const failedPaths = interpolation.issues.map((i) => i.path);
  for (const s of interpolation.secrets) secrets.add(s);
  collectPasswords(interpolation.value, secrets, new Set(failedPaths));
  for (const s of secrets) registerSecret(s);

  const knownKeys = new Map<string, string[]>();
  const parsed = configSchema.safeParse(interpolation.value, { error: (iss) => describeIssue(iss, knownKeys) });

  const schemaIssues = parsed.success
    ? []
    : parsed.error.issues
        .flatMap((iss) => toConfigIssues(iss, knownKeys))
        // A value whose variable is missing was not checked against what it would have been.
        .filter((i) => !failedPaths.some((p) => i.path === p || i.path.startsWith(`${p}.`) || i.path.startsWith(`${p}[`)));
  const issues = [...interpolation.issues, ...schemaIssues];
  if (issues.length > 0 || !parsed.success) {
    throw sanitized(withLines(issues, doc, lineCounter), secrets);
  }
  return withStateFromEnv(fileName ? resolveRelativePaths(parsed.data, dirname(resolve(fileName))) : parsed.data, env);
}

/**
 * `$SESAME_STATE`, when set, is the state file whatever `state.sqlite` says, relative to the
 * working directory: the Docker image sets it to the file on its volume.
 */
function withStateFromEnv(config: Config, env: NodeJS.ProcessEnv): Config {
  const path = env.SESAME_STATE;
  // A shared PostgreSQL state has no file: the image's default SESAME_STATE does not apply to it.
  if (!path || config.state.postgres !== undefined) return config;
  return { ...config, state: { ...config.state, sqlite: path === ':memory:' ? path : resolve(path) } };
}

/** `integrations[1].sslMode` from `['integrations', 1, 'sslMode']`. */
export function formatConfigPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Interpolation

/** `$${` (a literal `${`), `${NAME}`, or a `${` that never closes. */
const REFERENCE_RE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const VARIABLE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variable names that suggest their value must never be shown. */
const SECRET_NAME_RE = /pass|pwd|secret|token|key|credential|private|auth|signature|cookie/i;

interface Interpolated {
  value: unknown;
  issues: ConfigIssue[];
  secrets: string[];
}

function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[]): Interpolated {
  if (typeof value === 'string') return interpolateString(value, env, path);
  const issues: ConfigIssue[] = [];
  const secrets: string[] = [];
  const visit = (child: unknown, key: PropertyKey) => {
    const r = interpolate(child, env, [...path, key]);
    issues.push(...r.issues);
    secrets.push(...r.secrets);
    return r.value;
  };
  if (Array.isArray(value)) return { value: value.map((v, i) => visit(v, i)), issues, secrets };
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = visit(v, k);
    return { value: out, issues, secrets };
  }
  return { value, issues, secrets };
}

function interpolateString(text: string, env: NodeJS.ProcessEnv, path: PropertyKey[]): Interpolated {
  const issues: ConfigIssue[] = [];
  const secrets: string[] = [];
  const where = formatConfigPath(path);
  const value = text.replace(REFERENCE_RE, (match, name: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined) {
      issues.push({ path: where, message: 'has a "${" without a closing "}". Write ${NAME}, or $${ for a literal "${".' });
      return match;
    }
    if (!VARIABLE_NAME_RE.test(name)) {
      issues.push({
        path: where,
        message: `has "${match.slice(0, 40)}", which is not a variable reference: names are letters, digits and underscores, like \${DB_PASSWORD} (write $\${ for a literal "\${").`,
      });
      return match;
    }
    const resolved = env[name];
    if (resolved === undefined) {
      issues.push({
        path: where,
        message: `uses \${${name}}, but the environment variable ${name} is not set. Set it, or write $\${${name}} for a literal "\${${name}}".`,
      });
      return match;
    }
    if (SECRET_NAME_RE.test(name)) secrets.push(resolved);
    return resolved;
  });
  return { value, issues, secrets };
}

/** Secret-named variables the text refers to, so that even a YAML error cannot show their values. */
function secretVariableValues(text: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(REFERENCE_RE)) {
    const name = m[1];
    const value = name === undefined ? undefined : env[name];
    if (name !== undefined && value !== undefined && SECRET_NAME_RE.test(name)) out.push(value);
  }
  return out;
}

/**
 * The values of `password` keys (and of `secret`, the audit webhook's). One whose variable is
 * missing still holds the reference itself, which is no secret and which the message about it
 * has to show.
 */
function collectPasswords(value: unknown, into: Set<string>, unresolved: ReadonlySet<string>, path: PropertyKey[] = []): void {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) collectPasswords(v, into, unresolved, [...path, i]);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const here = [...path, k];
      if ((k === 'password' || k === 'secret') && (typeof v === 'string' || typeof v === 'number')) {
        if (!unresolved.has(formatConfigPath(here))) into.add(String(v));
      } else collectPasswords(v, into, unresolved, here);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

/**
 * Words for zod's issues that say what is allowed. Messages written in the schema itself win over
 * these (zod asks the schema first). Keys an object knows are noted for unknown-key suggestions.
 */
function describeIssue(iss: z.core.$ZodRawIssue, knownKeys: Map<string, string[]>): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return `is required (${KIND_WORDS[iss.expected] ?? iss.expected})`;
      return `must be ${KIND_WORDS[iss.expected] ?? iss.expected}, not ${kindOf(iss.input)}${typeHint(iss.expected, iss.input)}`;
    case 'invalid_value':
      return allowedValues(iss.values, iss.input);
    case 'invalid_union': {
      const options = (iss as { options?: unknown[] }).options;
      if (iss.note === 'No matching discriminator' && Array.isArray(options)) {
        const given = (iss.input as Record<string, unknown> | undefined)?.[String(iss.discriminator ?? 'type')];
        if (iss.input === null || typeof iss.input !== 'object' || Array.isArray(iss.input)) {
          return `must be ${KIND_WORDS.object}, not ${kindOf(iss.input)}`;
        }
        if (given === undefined) return `is required: one of ${options.join(', ')}`;
        return allowedValues(options, given);
      }
      return 'does not match any of the allowed forms';
    }
    case 'unrecognized_keys': {
      const shape = (iss.inst?._zod.def as { shape?: Record<string, unknown> } | undefined)?.shape;
      knownKeys.set(formatConfigPath(iss.path ?? []), shape ? Object.keys(shape) : []);
      return `has unknown keys: ${iss.keys.join(', ')}`;
    }
    case 'too_small':
      if (iss.origin === 'string') return Number(iss.minimum) <= 1 ? 'must not be empty' : `must be at least ${iss.minimum} characters`;
      if (iss.origin === 'array') return `needs at least ${iss.minimum} ${Number(iss.minimum) === 1 ? 'entry' : 'entries'}`;
      return iss.inclusive === false ? `must be greater than ${iss.minimum}` : `must be at least ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'string') {
        const length = typeof iss.input === 'string' ? ` (it has ${iss.input.length})` : '';
        return `must be at most ${iss.maximum} characters${length}`;
      }
      if (iss.origin === 'array') return `may have at most ${iss.maximum} entries`;
      return `must be at most ${iss.maximum}`;
    case 'invalid_format':
      return iss.pattern ? `does not have the expected form (${iss.pattern})` : `must be a valid ${iss.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${iss.divisor}`;
    case 'invalid_key':
      return 'has a key that is not allowed';
    case 'invalid_element':
      return 'has a value that is not allowed';
    case 'custom':
      return 'is not valid';
    default:
      return undefined;
  }
}

const KIND_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
};

function typeHint(expected: string, input: unknown): string {
  if (expected === 'string' && (typeof input === 'number' || typeof input === 'boolean')) return ' (put it in quotes)';
  if ((expected === 'number' || expected === 'int') && typeof input === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(input)) {
    return ' (write it without quotes; a ${NAME} reference always gives text)';
  }
  return '';
}

function kindOf(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'text';
    case 'number':
      return 'a number';
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

function allowedValues(values: readonly unknown[], given: unknown): string {
  const names = values.map(String);
  const head = names.length === 1 ? `must be ${names[0]}` : `must be one of ${names.join(', ')}`;
  if (typeof given !== 'string') return given === undefined || given === null ? head : `${head}, not ${kindOf(given)}`;
  const suggestion = closest(given, names);
  return suggestion ? `${head}; did you mean "${suggestion}"?` : `${head}, not ${JSON.stringify(given.slice(0, 40))}`;
}

/** Turns one zod issue into the person-facing issues: one per unknown key, with a suggestion. */
function toConfigIssues(iss: z.core.$ZodIssue, knownKeys: Map<string, string[]>): ConfigIssue[] {
  const path = formatConfigPath(iss.path);
  if (iss.code !== 'unrecognized_keys') return [{ path, message: iss.message }];
  const known = knownKeys.get(path) ?? [];
  return iss.keys.map((key) => {
    const suggestion = closest(key, known);
    const hint = suggestion ? `; did you mean "${suggestion}"?` : known.length > 0 ? ` here (known keys: ${known.join(', ')})` : '';
    return { path: formatConfigPath([...iss.path, key]), message: `is not a known key${hint}` };
  });
}

/** The candidate a person most likely meant: same letters ignoring case, or a small typo away. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const allowed = lower.length <= 4 ? 1 : lower.length <= 8 ? 2 : 3;
  return bestDistance <= allowed ? best : undefined;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Adds the line each problem sits on, and orders them as they appear in the file. */
function withLines(issues: ConfigIssue[], doc: Document, lineCounter: LineCounter): ConfigIssue[] {
  const located = issues.map((issue, order) => {
    const line = lineOf(issue.path, doc, lineCounter);
    return { issue: line ? { ...issue, message: `${issue.message} (line ${line})` } : issue, line: line ?? 0, order };
  });
  located.sort((a, b) => a.line - b.line || a.order - b.order);
  return located.map((l) => l.issue);
}

/**
 * The line of the node at `path`, or of its nearest ancestor that exists (for a missing key). A
 * map entry is located by its key, so a key whose value starts on a later line (a nested map or
 * list) is reported on the key's own line.
 */
function lineOf(path: string, doc: Document, lineCounter: LineCounter): number | undefined {
  const segments = [...path.matchAll(/([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g)].map((m) =>
    m[2] !== undefined ? Number(m[2]) : m[3] !== undefined ? (JSON.parse(`"${m[3]}"`) as string) : m[1]!,
  );
  let node: unknown = doc.contents;
  let start = rangeStart(node);
  for (const segment of segments) {
    const step = childOf(node, segment);
    if (!step) break;
    node = step.node;
    start = rangeStart(step.key) ?? rangeStart(step.node) ?? start;
  }
  return start === undefined ? undefined : lineCounter.linePos(start).line;
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null | undefined)?.range?.[0];
}

/** The child of a YAML map (with its key node) or list at `segment`. */
function childOf(node: unknown, segment: string | number): { key?: unknown; node: unknown } | undefined {
  if (isSeq(node)) return typeof segment === 'number' && segment < node.items.length ? { node: node.items[segment] } : undefined;
  if (!isMap(node)) return undefined;
  const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment));
  return pair ? { key: pair.key, node: pair.value } : undefined;
}

/** Secret values shorter than this are not searched for: they would mangle ordinary words. */
const MIN_REDACTED_LENGTH = 3;

function sanitized(issues: ConfigIssue[], secrets: Set<string>): ConfigError {
  const values = [...secrets].filter((s) => s.length >= MIN_REDACTED_LENGTH).sort((a, b) => b.length - a.length);
  const clean = (text: string) => values.reduce((out, s) => out.split(s).join('[REDACTED]'), text);
  return new ConfigError(issues.map((i) => ({ path: clean(i.path), message: clean(i.message) })));
}

// ---------------------------------------------------------------------------------------------
// Paths

function resolveRelativePaths(config: Config, baseDir: string): Config {
  const fromConfigDir = (p: string) => (isAbsolute(p) || p === ':memory:' || p.startsWith('file:') ? p : resolve(baseDir, p));
  return {
    ...config,
    state: {
      ...config.state,
      ...(config.state.sqlite === undefined ? {} : { sqlite: fromConfigDir(config.state.sqlite) }),
      ...(config.state.sslRootCert === undefined ? {} : { sslRootCert: fromConfigDir(config.state.sslRootCert) }),
    },
    integrations: config.integrations.map((i) => (i.sslRootCert === undefined ? i : { ...i, sslRootCert: fromConfigDir(i.sslRootCert) })),
    audit:
      config.audit.sink?.file === undefined
        ? config.audit
        : { sink: { ...config.audit.sink, file: fromConfigDir(config.audit.sink.file) } },
  };
}
