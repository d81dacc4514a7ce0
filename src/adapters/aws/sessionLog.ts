/*
 * PostgreSQL session logs as RDS writes them, read for the users Sesame manages.
 *
 * RDS's default `log_line_prefix` is `%t:%r:%u@%d:[%p]:`, so an entry reads
 *   2026-06-01 09:00:05 UTC:10.0.0.7(51234):alice@example.com@app:[4242]:LOG:  connection authorized: user=…
 * (timestamp without milliseconds in `log_timezone`, UTC on RDS; remote host and port, `[local]`
 * or nothing; user @ database; backend PID). A message that spans several lines continues on
 * lines that start with a tab, as PostgreSQL's stderr log writes them.
 *
 * Recognised: `log_connections` ("connection authorized"), `log_disconnections`
 * ("disconnection: session time: …") and pgaudit session lines ("AUDIT: SESSION,…", whose
 * fields are CSV: type, statement id, substatement id, class, command, object type, object
 * name, statement, parameter). pgaudit writes one line per relation and substatement of a
 * statement; a statement is counted once per backend and statement id.
 */
import { redact } from '../../logger.ts';

export type SessionEventKind = 'connect' | 'disconnect' | 'statement';

/** Something a managed user did, as the server logged it. */
export interface SessionEvent {
  /**
   * `<source>@<byte offset>` of the entry in its log file: the same entry read twice has the
   * same id, so counting is idempotent over re-reads.
   */
  id: string;
  at: Date;
  user: string;
  database: string;
  kind: SessionEventKind;
  /** The backend process, which ties a session's events together. */
  pid: number;
  /** For `statement`: its text, secrets redacted, at most {@link MAX_STATEMENT_LENGTH} characters. */
  statement?: string;
}

export interface SessionLogParseOptions {
  /** The users whose events are wanted; everyone else's lines are skipped. */
  managedUsers: Iterable<string>;
  /** Names the log file in event ids, e.g. `prod-db-1/error/postgresql.log.2026-06-01-09`. */
  source?: string;
  /** Byte offset of the text in its file, for event ids. Default 0. */
  offset?: number;
}

/** Statements are kept for a person to recognise, not to replay. */
export const MAX_STATEMENT_LENGTH = 1_000;

const ENTRY_RE =
  /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) (UTC|GMT|Z|[+-]\d{2}(?::?\d{2})?):(\[local\]|[^()\n]*\(\d+\)|):(.*?):\[(\d+)\]:([A-Z0-9]+):\s+([\s\S]*)$/;

interface Entry {
  text: string;
  offset: number;
}

/** Splits log text into entries: a line with its tab-led continuation lines. */
function entries(text: string, baseOffset: number): Entry[] {
  const out: Entry[] = [];
  let offset = baseOffset;
  let current: Entry | undefined;
  const lines = text.split('\n');
  // A final piece without a newline is still a line; an empty one after the last newline is not.
  if (lines[lines.length - 1] === '') lines.pop();
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('\t') && current) {
      current.text += `\n${line.slice(1)}`;
    } else {
      current = { text: line, offset };
      out.push(current);
    }
    offset += Buffer.byteLength(raw, 'utf8') + 1;
  }
  return out;
}

/** `+02`, `+0530` or `+05:30` as ISO 8601 wants it; UTC as `Z`. */
function isoOffset(zone: string): string {
  if (zone === 'UTC' || zone === 'GMT' || zone === 'Z') return 'Z';
  const digits = zone.replace(':', '');
  return `${digits.slice(0, 3)}:${digits.slice(3) || '00'}`;
}

function timestamp(date: string, time: string, zone: string): Date | undefined {
  const at = new Date(`${date}T${time}${isoOffset(zone)}`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** Splits one CSV record (pgaudit's field quoting: `"…"` with `""` for a quote). */
export function csvFields(record: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < record.length; i += 1) {
    const c = record[i]!;
    if (quoted) {
      if (c === '"' && record[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  fields.push(field);
  return fields;
}

/** PASSWORD '…' in CREATE/ALTER ROLE, which the generic redactor does not recognise. */
const PASSWORD_LITERAL_RE = /(\bPASSWORD\s+)(E?'(?:[^']|'')*')/gi;

function cleanStatement(statement: string): string {
  const cleaned = redact(statement.replace(PASSWORD_LITERAL_RE, "$1'[REDACTED]'"));
  return cleaned.length > MAX_STATEMENT_LENGTH ? `${cleaned.slice(0, MAX_STATEMENT_LENGTH - 1)}…` : cleaned;
}

/** The managed user an entry's `%u@%d` starts with (user names may themselves hold `@`). */
function splitUserDatabase(userDb: string, users: readonly string[]): { user: string; database: string } | undefined {
  const user = users.find((u) => userDb.startsWith(`${u}@`));
  return user === undefined ? undefined : { user, database: userDb.slice(user.length + 1) };
}

/**
 * The session events of managed users in a piece of an RDS PostgreSQL log. Pure: the same text
 * and options give the same events. Entries of other users, other messages, and lines that do
 * not carry RDS's prefix are skipped.
 */
export function parseRdsPostgresLog(text: string, options: SessionLogParseOptions): SessionEvent[] {
  // Longest first, so that `a@b` wins over `a` for the prefix `a@b@db`.
  const users = [...new Set(options.managedUsers)].sort((a, b) => b.length - a.length);
  if (users.length === 0) return [];
  const source = options.source ?? '';
  const lastStatement = new Map<number, string>();
  const events: SessionEvent[] = [];
  for (const entry of entries(text, options.offset ?? 0)) {
    const match = ENTRY_RE.exec(entry.text);
    if (!match) continue;
    const [, date, time, zone, , userDb, pidText, , message] = match as unknown as string[];
    const who = splitUserDatabase(userDb!, users);
    const at = timestamp(date!, time!, zone!);
    if (!who || !at) continue;
    const pid = Number(pidText);
    const base = { id: `${source}@${entry.offset}`, at, user: who.user, database: who.database, pid };
    if (message!.startsWith('connection authorized:')) {
      lastStatement.delete(pid);
      events.push({ ...base, kind: 'connect' });
    } else if (message!.startsWith('disconnection:')) {
      lastStatement.delete(pid);
      events.push({ ...base, kind: 'disconnect' });
    } else if (message!.startsWith('AUDIT: SESSION,')) {
      const [, statementId, , , , , , statement] = csvFields(message!.slice('AUDIT: '.length));
      if (statementId === undefined || lastStatement.get(pid) === statementId) continue;
      lastStatement.set(pid, statementId);
      events.push({ ...base, kind: 'statement', statement: cleanStatement(statement ?? '') });
    }
  }
  return events;
}

/** A grant as far as attributing session events goes: whose user, and when it was live. */
export interface GrantWindow {
  id: string;
  dbUser?: string;
  grantedAt?: Date;
  expiresAt?: Date;
  endedAt?: Date;
}

export interface SessionCounts {
  sessions: number;
  statements: number;
}

/** Log timestamps have whole seconds: a grant counts from the start of its second. */
function windowStart(grant: GrantWindow): number {
  return Math.floor(grant.grantedAt!.getTime() / 1000) * 1000;
}

/**
 * Attributes each event (once per id) to the grant of its user whose window
 * [grantedAt, endedAt or else expiresAt] contains the event's time. Where a person's grants
 * overlap, the most recently granted one gets the event. Events outside every window (before
 * the first grant, between grants, users of other servers) are returned as unattributed.
 */
export function attributeSessionEvents(
  events: readonly SessionEvent[],
  grants: readonly GrantWindow[],
): { byGrant: Map<string, SessionEvent[]>; unattributed: SessionEvent[] } {
  const live = grants
    .filter((g) => g.dbUser !== undefined && g.grantedAt !== undefined)
    .sort((a, b) => b.grantedAt!.getTime() - a.grantedAt!.getTime());
  const byGrant = new Map<string, SessionEvent[]>();
  const unattributed: SessionEvent[] = [];
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const at = event.at.getTime();
    const grant = live.find((g) => {
      const end = (g.endedAt ?? g.expiresAt)?.getTime() ?? Number.POSITIVE_INFINITY;
      return g.dbUser === event.user && at >= windowStart(g) && at <= end;
    });
    if (!grant) {
      unattributed.push(event);
      continue;
    }
    const list = byGrant.get(grant.id) ?? [];
    list.push(event);
    byGrant.set(grant.id, list);
  }
  return { byGrant, unattributed };
}

/** Sessions (logins) and statements per grant id, for the grants that had any. */
export function sessionCountsByGrant(events: readonly SessionEvent[], grants: readonly GrantWindow[]): Map<string, SessionCounts> {
  const counts = new Map<string, SessionCounts>();
  for (const [grantId, attributed] of attributeSessionEvents(events, grants).byGrant) {
    counts.set(grantId, {
      sessions: attributed.filter((e) => e.kind === 'connect').length,
      statements: attributed.filter((e) => e.kind === 'statement').length,
    });
  }
  return counts;
}
