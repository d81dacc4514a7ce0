/*
 * What the messages of a session log say a user did, whatever the format they came in.
 *
 * Recognised: `log_connections` ("connection authorized"), `log_disconnections`
 * ("disconnection: session time: …"), pgaudit session lines ("AUDIT: SESSION,…", whose fields
 * are CSV: type, statement id, substatement id, class, command, object type, object name,
 * statement, parameter) and `log_statement` / `log_min_duration_statement` lines
 * ("statement: …", "execute <name>: …", "duration: 1.234 ms  statement: …"). Bind parameters
 * (the "parameters: …" detail) are never read: they may hold secrets.
 *
 * pgaudit writes one line per relation and substatement of a statement; a statement is counted
 * once per backend and statement id. Where both pgaudit and log_statement are on, a statement
 * is logged by both: per backend, a log_statement event right before or right after a pgaudit
 * event with the same (redacted) text is dropped, and the pgaudit one kept.
 */
import { redact } from '../../../logger.ts';
import type { SessionEvent } from '../sessionLog.ts';
import { commandTagOf } from './commandTag.ts';
import { csvFields } from './csvLog.ts';
import type { LogRecord } from './records.ts';

/** Statements are kept for a person to recognise, not to replay. */
export const MAX_STATEMENT_LENGTH = 1_000;

const LOG_STATEMENT_RE = /^(?:duration: \d+(?:\.\d+)? ms {2})?(?:statement|execute [^:\n]+): ([\s\S]*)$/;

/** A process title that is a command tag (not `idle`, `authentication`…). */
const COMMAND_TAG_RE = /^[A-Z]+(?: [A-Z]+)*$/;

/** PASSWORD '…' in CREATE/ALTER ROLE, which the generic redactor does not recognise. */
const PASSWORD_LITERAL_RE = /(\bPASSWORD\s+)(E?'(?:[^']|'')*')/gi;

export function cleanStatement(statement: string): string {
  const cleaned = redact(statement.replace(PASSWORD_LITERAL_RE, "$1'[REDACTED]'"));
  return cleaned.length > MAX_STATEMENT_LENGTH ? `${cleaned.slice(0, MAX_STATEMENT_LENGTH - 1)}…` : cleaned;
}

type Origin = 'pgaudit' | 'log_statement';

interface Statement {
  origin: Origin;
  text: string;
  commandTag?: string;
  /** pgaudit's statement id. */
  auditId?: string;
}

function statementOf(record: LogRecord): Statement | undefined {
  if (record.message.startsWith('AUDIT: SESSION,')) {
    const [, auditId, , , command, , , statement] = csvFields(record.message.slice('AUDIT: '.length));
    if (auditId === undefined) return undefined;
    const text = cleanStatement(statement ?? '');
    const commandTag = command || commandTagOf(statement ?? '');
    return { origin: 'pgaudit', text, auditId, ...(commandTag ? { commandTag } : {}) };
  }
  const match = record.severity === 'LOG' ? LOG_STATEMENT_RE.exec(record.message) : null;
  if (!match) return undefined;
  const title = record.processTitle ?? '';
  const commandTag = COMMAND_TAG_RE.test(title) ? title : commandTagOf(match[1]!);
  return { origin: 'log_statement', text: cleanStatement(match[1]!), ...(commandTag ? { commandTag } : {}) };
}

/** Per backend: the last pgaudit statement id, and the last statement event with its origin. */
class Backends {
  readonly #auditIds = new Map<number, string>();
  readonly #last = new Map<number, { index: number; statement: Statement }>();

  reset(pid: number): void {
    this.#auditIds.delete(pid);
    this.#last.delete(pid);
  }

  /**
   * Whether a statement is new, and which earlier event (index) it replaces: the same pgaudit
   * statement id again is not new; a log_statement twin of the previous pgaudit one is not; a
   * pgaudit statement replaces its log_statement twin right before it.
   */
  admit(pid: number, statement: Statement): { add: boolean; drop?: number } {
    if (statement.auditId !== undefined) {
      if (this.#auditIds.get(pid) === statement.auditId) return { add: false };
      this.#auditIds.set(pid, statement.auditId);
    }
    const last = this.#last.get(pid);
    const twin = last !== undefined && last.statement.text.trim() === statement.text.trim() && last.statement.origin !== statement.origin;
    if (twin && statement.origin === 'log_statement') return { add: false };
    return { add: true, ...(twin ? { drop: last.index } : {}) };
  }

  added(pid: number, index: number, statement: Statement): void {
    this.#last.set(pid, { index, statement });
  }
}

/** The session events in records of managed users, ids `<source>@<offset>`. */
export function sessionEventsOf(records: readonly LogRecord[], source: string): SessionEvent[] {
  const backends = new Backends();
  const events: (SessionEvent | undefined)[] = [];
  for (const record of records) {
    const { pid } = record;
    const base = { id: `${source}@${record.offset}`, at: record.at, user: record.user, database: record.database, pid };
    const ids = { sessionId: record.sessionId };
    if (record.message.startsWith('connection authorized:') || record.message.startsWith('disconnection:')) {
      backends.reset(pid);
      events.push({ ...base, kind: record.message.startsWith('connection') ? 'connect' : 'disconnect', ...ids });
      continue;
    }
    const statement = statementOf(record);
    if (!statement) continue;
    const { add, drop } = backends.admit(pid, statement);
    if (!add) continue;
    if (drop !== undefined) events[drop] = undefined;
    backends.added(pid, events.length, statement);
    const tag = statement.commandTag ? { commandTag: statement.commandTag } : {};
    events.push({ ...base, kind: 'statement', ...ids, statement: statement.text, ...tag });
  }
  return events.filter((e): e is SessionEvent => e !== undefined);
}
