import { parseLogTimestamp } from './logTime.ts';

/** One log message of any format, of a managed user, with its time resolved. */
export interface LogRecord {
  /** Byte offset of the record's first character in its file. */
  offset: number;
  at: Date;
  user: string;
  database: string;
  pid: number;
  /** PostgreSQL's session identifier (`%c`): hex session start epoch seconds `.` hex PID. */
  sessionId: string;
  /** LOG, ERROR, STATEMENT… */
  severity: string;
  message: string;
  /** csvlog's command_tag column, jsonlog's `ps`: the process title when the message was written. */
  processTitle?: string;
}

/** Lines that could not be read, for the caller to warn about. */
export interface SkippedLines {
  /** Lines of managed users whose time zone abbreviation could not be resolved. */
  unknownTimeZone: number;
}

export interface RecordReadOptions {
  /** Managed users, longest name first. */
  users: readonly string[];
  /** Byte offset of the text in its file. */
  offset: number;
  /** The server's `log_timezone` (IANA), for abbreviations that are ambiguous or unknown. */
  timeZone?: string;
  skipped?: SkippedLines;
}

/** PostgreSQL's `%c`: the session start as hex epoch seconds, a dot, the PID in hex. */
export function sessionIdOf(startedAt: Date, pid: number): string {
  return `${Math.floor(startedAt.getTime() / 1000).toString(16)}.${pid.toString(16)}`;
}

/** Byte offsets of positions in a text, counted forward from a known offset. */
export class ByteCounter {
  #index = 0;
  #offset: number;

  constructor(
    baseOffset: number,
    readonly text: string,
  ) {
    this.#offset = baseOffset;
  }

  /** The byte offset of character index `index` (which must not go backwards). */
  at(index: number): number {
    this.#offset += Buffer.byteLength(this.text.slice(this.#index, index), 'utf8');
    this.#index = index;
    return this.#offset;
  }
}

/** A record's fields as read, its time still text. */
export type RawRecord = Omit<LogRecord, 'at'> & { timestamp: string };

/** A record with its time resolved; undefined, and counted, when its time zone is unknown. */
export function resolveRecordTime({ timestamp, ...raw }: RawRecord, options: RecordReadOptions): LogRecord | undefined {
  const at = parseLogTimestamp(timestamp, options.timeZone);
  if (!at && options.skipped) options.skipped.unknownTimeZone += 1;
  return at ? { ...raw, at } : undefined;
}
