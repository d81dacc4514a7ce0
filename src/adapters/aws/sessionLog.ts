/*
 * PostgreSQL session logs as RDS writes them, read for the users Sesame manages: the stderr log
 * (`postgresql.log.YYYY-MM-DD-HH`, RDS's prefix `%t:%r:%u@%d:[%p]:`), csvlog (`….csv`) and
 * jsonlog (`….json`, PostgreSQL 15 on). The formats are read in ./logFormats/; what their
 * messages say (connections, disconnections, pgaudit and log_statement statements) is read the
 * same for all of them (./logFormats/sessionEvents.ts).
 */
import { csvFields, looksLikeCsvLog, readCsvLog } from './logFormats/csvLog.ts';
import { readJsonLog } from './logFormats/jsonLog.ts';
import type { RecordReadOptions, SkippedLines } from './logFormats/records.ts';
import { MAX_STATEMENT_LENGTH, sessionEventsOf } from './logFormats/sessionEvents.ts';
import { readStderrLog } from './logFormats/stderrLog.ts';

export { csvFields, MAX_STATEMENT_LENGTH, type SkippedLines };

export type SessionEventKind = 'connect' | 'disconnect' | 'statement';

/** Something a managed user did, as the server logged it. */
export interface SessionEvent {
  /**
   * `<source>@<byte offset>` of the entry (csvlog, jsonlog: the record) in its log file: the
   * same entry read twice has the same id, so counting is idempotent over re-reads.
   */
  id: string;
  at: Date;
  user: string;
  database: string;
  kind: SessionEventKind;
  /** The backend process, which ties a session's events together. */
  pid: number;
  /**
   * PostgreSQL's session identifier (`%c`, csvlog/jsonlog `session_id`, e.g. `6650f1a5.1092`:
   * hex session start epoch seconds, hex PID). The stderr log does not carry it: there it is made
   * from the session's connection line in the same text, and is `pid:<pid>` when that line is not
   * in the text.
   */
  sessionId: string;
  /** For `statement`: its text, secrets redacted, at most {@link MAX_STATEMENT_LENGTH} characters. */
  statement?: string;
  /**
   * For `statement`: its command tag (`SELECT`, `ALTER ROLE`…): pgaudit's command, csvlog's
   * command_tag / jsonlog's `ps` where it names a command, or else read from the statement.
   */
  commandTag?: string;
}

export type LogFormat = 'stderr' | 'csvlog' | 'jsonlog';

export interface SessionLogParseOptions {
  /** The users whose events are wanted; everyone else's lines are skipped. */
  managedUsers: Iterable<string>;
  /** Names the log file in event ids, e.g. `prod-db-1/error/postgresql.log.2026-06-01-09`. */
  source?: string;
  /** Byte offset of the text in its file, for event ids. Default 0. */
  offset?: number;
  /** The format; by default from the file name in `source` (`.csv`, `.json`) or else the text. */
  format?: LogFormat;
  /**
   * The server's `log_timezone` (IANA, e.g. `Europe/Paris`), for zone abbreviations that mean
   * different offsets in different places (IST, CST…) or that PostgreSQL's default set lacks.
   */
  timeZone?: string;
  /** Counts the lines of managed users skipped because their time zone could not be resolved. */
  skipped?: SkippedLines;
}

/** The format of a log file: by its name (`.csv`, `.json`), or else by its first line. */
export function detectLogFormat(text: string, source?: string): LogFormat {
  if (source?.endsWith('.csv')) return 'csvlog';
  if (source?.endsWith('.json')) return 'jsonlog';
  const first = text.trimStart().split('\n', 1)[0] ?? '';
  if (first.startsWith('{')) return 'jsonlog';
  return looksLikeCsvLog(first) ? 'csvlog' : 'stderr';
}

const READERS = { stderr: readStderrLog, csvlog: readCsvLog, jsonlog: readJsonLog };

/**
 * The session events of managed users in a piece of an RDS PostgreSQL log (stderr, csvlog or
 * jsonlog). Pure: the same text and options give the same events. Entries of other users,
 * other messages, and lines that are not log entries are skipped; so are lines whose time zone
 * cannot be resolved, counted in `options.skipped`.
 */
export function parseRdsPostgresLog(text: string, options: SessionLogParseOptions): SessionEvent[] {
  // Longest first, so that `a@b` wins over `a` for the stderr prefix `a@b@db`.
  const users = [...new Set(options.managedUsers)].sort((a, b) => b.length - a.length);
  if (users.length === 0) return [];
  const read: RecordReadOptions = {
    users,
    offset: options.offset ?? 0,
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
    ...(options.skipped ? { skipped: options.skipped } : {}),
  };
  const records = READERS[options.format ?? detectLogFormat(text, options.source)](text, read);
  return sessionEventsOf(records, options.source ?? '');
}
