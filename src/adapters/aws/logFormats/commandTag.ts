/*
 * The command tag PostgreSQL gives a statement (what `psql` prints after it and csvlog writes
 * in its command_tag column), read from the statement's leading keywords. A small table: the
 * common commands by name, CREATE/ALTER/DROP with their object; anything else is its first
 * word in upper case.
 */

const SINGLE: Record<string, string> = {
  SELECT: 'SELECT',
  VALUES: 'SELECT',
  TABLE: 'SELECT',
  INSERT: 'INSERT',
  UPDATE: 'UPDATE',
  DELETE: 'DELETE',
  MERGE: 'MERGE',
  TRUNCATE: 'TRUNCATE TABLE',
  COPY: 'COPY',
  GRANT: 'GRANT',
  REVOKE: 'REVOKE',
  SET: 'SET',
  RESET: 'RESET',
  SHOW: 'SHOW',
  BEGIN: 'BEGIN',
  START: 'START TRANSACTION',
  COMMIT: 'COMMIT',
  END: 'COMMIT',
  ROLLBACK: 'ROLLBACK',
  ABORT: 'ROLLBACK',
  SAVEPOINT: 'SAVEPOINT',
  RELEASE: 'RELEASE',
  EXPLAIN: 'EXPLAIN',
  ANALYZE: 'ANALYZE',
  ANALYSE: 'ANALYZE',
  VACUUM: 'VACUUM',
  DO: 'DO',
  CALL: 'CALL',
  LOCK: 'LOCK TABLE',
  DECLARE: 'DECLARE CURSOR',
  CLOSE: 'CLOSE CURSOR',
  EXECUTE: 'EXECUTE',
  DEALLOCATE: 'DEALLOCATE',
  REASSIGN: 'REASSIGN OWNED',
  REFRESH: 'REFRESH MATERIALIZED VIEW',
  IMPORT: 'IMPORT FOREIGN SCHEMA',
  SECURITY: 'SECURITY LABEL',
  COMMENT: 'COMMENT',
};

/** Words between CREATE and its object that do not change the tag. */
const MODIFIERS = new Set([
  'OR',
  'REPLACE',
  'UNIQUE',
  'TEMP',
  'TEMPORARY',
  'UNLOGGED',
  'GLOBAL',
  'LOCAL',
  'TRUSTED',
  'PROCEDURAL',
  'RECURSIVE',
]);

/** Objects named by two words. */
const TWO_WORD_OBJECTS = new Set([
  'MATERIALIZED VIEW',
  'FOREIGN TABLE',
  'EVENT TRIGGER',
  'USER MAPPING',
  'DEFAULT PRIVILEGES',
  'ACCESS METHOD',
  'TEXT SEARCH',
  'OPERATOR CLASS',
  'OPERATOR FAMILY',
]);

/** USER and GROUP are other names of ROLE in the tags. */
const OBJECT_ALIASES: Record<string, string> = { USER: 'ROLE', GROUP: 'ROLE' };

/** The statement without leading blanks, comments and opening parentheses. */
function stripLead(sql: string): string {
  let rest = sql;
  for (;;) {
    const next = rest.replace(/^(?:\s+|\(|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)/, '');
    if (next === rest) return rest;
    rest = next;
  }
}

function words(sql: string, count: number): string[] {
  return (stripLead(sql).match(/^[A-Za-z_]+(?:\s+[A-Za-z_]+)*/)?.[0] ?? '').split(/\s+/, count).map((w) => w.toUpperCase());
}

function ddlTag(verb: string, rest: string[], sql: string): string {
  const objectWords = rest.filter((w, i) => !(verb === 'CREATE' && MODIFIERS.has(w) && i < 3));
  const pair = objectWords.slice(0, 2).join(' ');
  if (TWO_WORD_OBJECTS.has(pair)) return `${verb} ${pair}`;
  const object = objectWords[0];
  if (object === undefined) return verb;
  if (verb === 'DROP' && object === 'OWNED') return 'DROP OWNED';
  const named = OBJECT_ALIASES[object] ?? object;
  if (verb === 'CREATE' && named === 'TABLE' && /\bTABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[^\s(]+\s+AS\b/i.test(sql)) return 'CREATE TABLE AS';
  return `${verb} ${named}`;
}

/** The CTE's main statement: the first command word after the last closing parenthesis. */
function withTag(sql: string): string {
  const after = sql.slice(sql.lastIndexOf(')') + 1);
  const word = /\b(SELECT|INSERT|UPDATE|DELETE|MERGE)\b/i.exec(after)?.[1];
  return word ? word.toUpperCase() : 'SELECT';
}

/** The command tag PostgreSQL would give a statement; undefined for an empty one. */
export function commandTagOf(sql: string): string | undefined {
  const [first, ...rest] = words(sql, 5);
  if (!first) return undefined;
  if (first === 'CREATE' || first === 'ALTER' || first === 'DROP') return ddlTag(first, rest, sql);
  if (first === 'WITH') return withTag(sql);
  if (first === 'PREPARE') return rest[0] === 'TRANSACTION' ? 'PREPARE TRANSACTION' : 'PREPARE';
  if (first === 'DISCARD') return rest[0] ? `DISCARD ${rest[0]}` : 'DISCARD';
  return SINGLE[first] ?? first;
}
