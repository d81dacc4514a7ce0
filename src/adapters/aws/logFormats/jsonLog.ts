/*
 * PostgreSQL's jsonlog (PostgreSQL 15 on; `.json` files): one JSON object per line, with the keys
 * of "Using JSON-Format Log Output" — among them timestamp, user, dbname, pid, session_id, ps
 * (the process title: csvlog's command_tag), error_severity and message. Keys without a value are
 * left out. Newlines inside values are escaped, so every record is one line.
 */
import { ByteCounter, type LogRecord, type RecordReadOptions, resolveRecordTime } from './records.ts';

interface JsonLogLine {
  timestamp?: unknown;
  user?: unknown;
  dbname?: unknown;
  pid?: unknown;
  session_id?: unknown;
  ps?: unknown;
  error_severity?: unknown;
  message?: unknown;
}

function parseLine(line: string): JsonLogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' ? (value as JsonLogLine) : undefined;
  } catch {
    return undefined;
  }
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The records of managed users in jsonlog text. */
export function readJsonLog(input: string, options: RecordReadOptions): LogRecord[] {
  const users = new Set(options.users);
  const bytes = new ByteCounter(options.offset, input);
  const records: LogRecord[] = [];
  let start = 0;
  while (start < input.length) {
    const newline = input.indexOf('\n', start);
    const end = newline === -1 ? input.length : newline;
    const offset = bytes.at(start);
    const line = parseLine(input.slice(start, end).trim());
    start = end + 1;
    const user = text(line?.user);
    if (!line || !users.has(user) || typeof line.pid !== 'number') continue;
    const record = resolveRecordTime(
      {
        offset,
        timestamp: text(line.timestamp),
        user,
        database: text(line.dbname),
        pid: line.pid,
        sessionId: text(line.session_id) || `pid:${line.pid}`,
        severity: text(line.error_severity),
        message: text(line.message),
        processTitle: text(line.ps),
      },
      options,
    );
    if (record) records.push(record);
  }
  return records;
}
