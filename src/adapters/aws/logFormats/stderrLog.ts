/*
 * PostgreSQL's stderr log as RDS writes it. RDS's default `log_line_prefix` is
 * `%t:%r:%u@%d:[%p]:`, so an entry reads
 *   2026-06-01 09:00:05 UTC:10.0.0.7(51234):alice@example.com@app:[4242]:LOG:  connection authorized: user=…
 * (timestamp without milliseconds in `log_timezone`, its zone abbreviated; remote host and port,
 * `[local]` or nothing; user @ database; backend PID). A message that spans several lines
 * continues on lines that start with a tab.
 *
 * The prefix has no session ID, so it is made the way PostgreSQL makes `%c`, from the time of
 * the session's "connection received" (or else "connection authorized") line of the same PID in
 * the same text. When that line is not in the text (the session began in an earlier part of
 * the file, or log_connections is off), the session ID is `pid:<pid>`.
 */
import { logTime } from './logTime.ts';
import { type LogRecord, type RecordReadOptions, sessionIdOf } from './records.ts';

const ENTRY_RE =
  /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ([+-]\d{2}(?::?\d{2})?|[A-Za-z]{1,6}):(\[local\]|[^()\n]*\(\d+\)|):(.*?):\[(\d+)\]:([A-Z0-9]+):\s+([\s\S]*)$/;

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

/** The managed user an entry's `%u@%d` starts with (user names may themselves hold `@`). */
function splitUserDatabase(userDb: string, users: readonly string[]): { user: string; database: string } | undefined {
  const user = users.find((u) => userDb.startsWith(`${u}@`));
  return user === undefined ? undefined : { user, database: userDb.slice(user.length + 1) };
}

/** Session starts by PID, from the connection lines read so far. */
class SessionStarts {
  readonly #starts = new Map<number, { at: Date; received: boolean }>();

  see(pid: number, message: string, at: Date | undefined): void {
    if (message.startsWith('connection received:')) {
      if (at) this.#starts.set(pid, { at, received: true });
      else this.#starts.delete(pid);
    } else if (message.startsWith('connection authorized:')) {
      const known = this.#starts.get(pid);
      if (known?.received) this.#starts.set(pid, { at: known.at, received: false });
      else if (at) this.#starts.set(pid, { at, received: false });
      else this.#starts.delete(pid);
    }
  }

  sessionId(pid: number): string {
    const start = this.#starts.get(pid);
    return start ? sessionIdOf(start.at, pid) : `pid:${pid}`;
  }
}

/** The records of managed users in stderr log text. */
export function readStderrLog(text: string, options: RecordReadOptions): LogRecord[] {
  const records: LogRecord[] = [];
  const starts = new SessionStarts();
  for (const entry of entries(text, options.offset)) {
    const match = ENTRY_RE.exec(entry.text);
    if (!match) continue;
    const [, date, time, zone, , userDb, pidText, severity, message] = match as unknown as string[];
    const pid = Number(pidText);
    const at = logTime(date!, time!, zone!, options.timeZone);
    starts.see(pid, message!, at);
    const who = splitUserDatabase(userDb!, options.users);
    if (!who) continue;
    if (!at) {
      if (options.skipped) options.skipped.unknownTimeZone += 1;
      continue;
    }
    records.push({ offset: entry.offset, at, ...who, pid, sessionId: starts.sessionId(pid), severity: severity!, message: message! });
  }
  return records;
}
