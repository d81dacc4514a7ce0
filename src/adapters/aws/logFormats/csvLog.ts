/*
 * PostgreSQL's csvlog (`log_destination` with `csvlog`; RDS names the files
 * `postgresql.log.YYYY-MM-DD-HH.csv`). One record per message, fields in PostgreSQL's order
 * ("Using CSV-Format Log Output"): log_time, user_name, database_name, process_id,
 * connection_from, session_id, session_line_num, command_tag, session_start_time,
 * virtual_transaction_id, transaction_id, error_severity, sql_state_code, message, detail, hint,
 * internal_query, internal_query_pos, context, query, query_pos, location, application_name,
 * backend_type, leader_pid, query_id. Text fields are quoted with `"` (a quote doubled); a
 * quoted field may span lines.
 */
import { ByteCounter, type LogRecord, type RecordReadOptions, resolveRecordTime } from './records.ts';

const LOG_TIME = 0;
const USER_NAME = 1;
const DATABASE_NAME = 2;
const PROCESS_ID = 3;
const SESSION_ID = 5;
const COMMAND_TAG = 7;
const ERROR_SEVERITY = 11;
const MESSAGE = 13;

interface CsvRecord {
  fields: string[];
  /** Index of the record's first character in the text. */
  start: number;
}

/**
 * Splits CSV text into records (a newline outside quotes ends one, unless `oneRecord`). A last
 * record cut inside a quoted field is left out.
 */
function splitCsv(text: string, oneRecord: boolean): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let start = 0;
  const endRecord = (next: number) => {
    fields.push(field.endsWith('\r') ? field.slice(0, -1) : field);
    if (fields.length > 1 || fields[0] !== '') records.push({ fields, start });
    fields = [];
    field = '';
    start = next;
  };
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
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
    } else if (c === '\n' && !oneRecord) {
      endRecord(i + 1);
    } else {
      field += c;
    }
  }
  if (oneRecord || (!quoted && start < text.length)) endRecord(text.length);
  return records;
}

/** Splits one CSV record (pgaudit's field quoting: `"…"` with `""` for a quote). */
export function csvFields(record: string): string[] {
  return splitCsv(record, true)[0]?.fields ?? [''];
}

/** The records of managed users in csvlog text. */
export function readCsvLog(text: string, options: RecordReadOptions): LogRecord[] {
  const users = new Set(options.users);
  const bytes = new ByteCounter(options.offset, text);
  const records: LogRecord[] = [];
  for (const { fields, start } of splitCsv(text, false)) {
    const offset = bytes.at(start);
    const user = fields[USER_NAME] ?? '';
    const pid = Number(fields[PROCESS_ID]);
    if (!users.has(user) || fields.length <= MESSAGE || !Number.isInteger(pid)) continue;
    const record = resolveRecordTime(
      {
        offset,
        timestamp: fields[LOG_TIME]!,
        user,
        database: fields[DATABASE_NAME] ?? '',
        pid,
        sessionId: fields[SESSION_ID] || `pid:${pid}`,
        severity: fields[ERROR_SEVERITY] ?? '',
        message: fields[MESSAGE] ?? '',
        processTitle: fields[COMMAND_TAG] ?? '',
      },
      options,
    );
    if (record) records.push(record);
  }
  return records;
}

/** Whether a line reads as the start of a csvlog record: a timestamp, then a comma. */
export function looksLikeCsvLog(line: string): boolean {
  return /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? [^\s,:]+,/.test(line);
}
