import type { LogFormat } from '../sessionLog.ts';

/** A line that starts a record of PostgreSQL's stderr or csvlog output: its timestamp. */
const RECORD_START = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/;

/**
 * Where the last record of a log text that is still being written starts: the record may not be
 * whole yet (a statement's continuation lines, a quoted CSV field across lines, a line cut short),
 * so it is read next time, with whatever follows it. Answers `text.length` when there is none.
 */
export function lastRecordStart(text: string, format: LogFormat): number {
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length || format === 'jsonlog') return end; // a cut line, or one record per line
  let at = text.lastIndexOf('\n', end - 2) + 1;
  while (at > 0) {
    const line = text.slice(at, text.indexOf('\n', at));
    if (format === 'stderr' ? !line.startsWith('\t') && line.length > 0 : RECORD_START.test(line)) return at;
    at = text.lastIndexOf('\n', at - 2) + 1;
  }
  return 0;
}
