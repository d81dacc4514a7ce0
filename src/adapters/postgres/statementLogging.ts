import type { Logger } from '../../logger.ts';
import type { CheckFinding, StatementLogging } from '../../ports/TargetDatabase.ts';
import { sqlState } from './connection.ts';
import { majorVersion, type ConnectorRow } from './connectorRules.ts';
import type { Session } from './session.ts';
import * as sql from './statements.ts';
import type { LoggingParameter, Statement } from './statements.ts';

/*
 * Statement logging for audited integrations (`audit: true`). At grant, the person's user gets a
 * session default that has the server log every statement it runs: `pgaudit.log = 'all'` where
 * pgaudit is loaded (with `pgaudit.log_parameter = off`: parameters may hold secrets), else
 * `log_statement = 'all'`. Both are superuser-only parameters, so the person cannot turn them off
 * (`SET`, `ALTER ROLE … RESET` and a `-c` at login are refused), and the connector may set them
 * only as a superuser, with `GRANT SET ON PARAMETER` (PostgreSQL 15 and later) or, on RDS, as
 * rds_superuser where RDS allows it. Where it may not, the grant goes ahead without it.
 *
 * The setting goes on the person's user only, never on a group role (a role's session defaults
 * apply to logins as that role, not to its members), and stays when the access ends: a user
 * that cannot log in logs nothing.
 */

/** The settings each way of logging makes on the user. */
export function loggingStatements(mode: StatementLogging, username: string): Statement[] {
  return loggingParameters(mode).map(([parameter, value]) => sql.setRoleParameter(username, parameter, value));
}

function loggingParameters(mode: StatementLogging): [LoggingParameter, string][] {
  if (mode === 'pgaudit') {
    return [
      ['pgaudit.log', 'all'],
      ['pgaudit.log_parameter', 'off'],
    ];
  }
  return mode === 'log_statement' ? [['log_statement', 'all']] : [];
}

/** Whether the server took the statements; false when it refused them for want of a privilege. */
async function accepted(m: Session, statements: readonly Statement[]): Promise<boolean> {
  try {
    await m.batch(statements);
    return true;
  } catch (err) {
    if (sqlState(err) === '42501') return false;
    throw err;
  }
}

/** How long what the connector may set is trusted before it is tried again (an admin may grant it meanwhile). */
export const STATEMENT_LOGGING_RECHECK_MS = 15 * 60_000;

/**
 * What the connector may set on one server, found by trying it once on a grant's user and then
 * sent with the grant's own statements, in the same round trip.
 */
export class StatementLoggingSetter {
  #known: { mode: StatementLogging; at: number } | undefined;
  #lastMode: StatementLogging | undefined;
  readonly #integration: string;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;

  constructor(options: { integration: string; logger?: Logger; now?: () => number }) {
    this.#integration = options.integration;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Sends `statements` (one round trip), with the settings of the way found earlier when `wanted`
   * and it is still trusted. When the server refuses them now, sends `statements` alone. Returns
   * the way applied, or undefined when none was known.
   */
  async send(m: Session, username: string, wanted: boolean, statements: readonly Statement[]): Promise<StatementLogging | undefined> {
    const mode = wanted ? this.trusted() : undefined;
    const extra = mode ? loggingStatements(mode, username) : [];
    if (extra.length === 0) {
      await m.batch(statements);
      return mode;
    }
    if (await accepted(m, [...statements, ...extra])) return mode;
    this.#known = undefined;
    await m.batch(statements);
    return undefined;
  }

  /** The way found earlier, while it is still trusted; undefined when it is to be found (again). */
  trusted(): StatementLogging | undefined {
    const known = this.#known;
    return known && this.#now() - known.at < STATEMENT_LOGGING_RECHECK_MS ? known.mode : undefined;
  }

  /**
   * Once the user exists: when no way was applied with its statements, tries pgaudit (when
   * loaded), then log_statement, on the user, and remembers the first the server takes.
   */
  async settle(m: Session, username: string, applied: StatementLogging | undefined): Promise<StatementLogging> {
    if (applied) return applied;
    const [row] = await m.rows<{ loaded: boolean }>(sql.pgauditLoaded());
    const candidates: StatementLogging[] = row?.loaded ? ['pgaudit', 'log_statement'] : ['log_statement'];
    let found: StatementLogging = 'none';
    for (const mode of candidates) {
      if (await accepted(m, loggingStatements(mode, username))) {
        found = mode;
        break;
      }
    }
    if (found === 'none' && this.#lastMode !== 'none') {
      this.#logger?.warn(
        { integration: this.#integration },
        "the connector may not set statement logging on people's users: their statements are not logged (see sesame check)",
      );
    }
    this.#known = { mode: found, at: this.#now() };
    this.#lastMode = found;
    return found;
  }
}

// ── sesame check ─────────────────────────────────────────────────────────────────────────────

/** The prefix of RDS's stderr log, the one Sesame reads entries by. */
export const RDS_LOG_LINE_PREFIX = '%t:%r:%u@%d:[%p]:';

interface SettingRow {
  name: string;
  setting: string;
  context: string;
}

/** On (a boolean), or from PostgreSQL 18 a list of connection stages that includes authorization. */
function logsConnections(value: string): boolean {
  const parts = value
    .toLowerCase()
    .split(',')
    .map((p) => p.trim());
  return parts.some((p) => ['on', 'true', 'yes', '1', 'all', 'authorization'].includes(p));
}

/** Tries the settings on the connector's own role in a transaction that is rolled back. */
async function connectorMaySet(m: Session, c: ConnectorRow, mode: StatementLogging): Promise<boolean> {
  await m.batch([sql.BEGIN]);
  try {
    return await accepted(m, loggingStatements(mode, c.connector));
  } finally {
    await m.batch([sql.ROLLBACK]);
  }
}

/**
 * What the server lacks for full statement capture of the people's sessions, for an integration
 * with `audit: true`: each gap says what to change and where (the DB parameter group on RDS).
 */
export async function statementLoggingFindings(
  m: Session,
  c: ConnectorRow,
  where: { onRds: boolean; logsReadBySesame: boolean },
): Promise<CheckFinding[]> {
  const { onRds } = where;
  const rows = await m.rows<SettingRow>(sql.loggingSettings());
  const settings = new Map(rows.map((r) => [r.name, r]));
  const pgaudit =
    settings.get('pgaudit.log')?.context === 'superuser' || /\bpgaudit\b/.test(settings.get('shared_preload_libraries')?.setting ?? '');
  const findings: CheckFinding[] = [];
  const off = ['log_connections', 'log_disconnections'].filter((name) => {
    const value = settings.get(name)?.setting;
    return value !== undefined && !logsConnections(value);
  });
  if (off.length > 0)
    findings.push(
      serverSettingFinding(
        `${off.join(' and ')} ${off.length > 1 ? 'are' : 'is'} off: the people's logins are not logged.`,
        off.map((name) => [name, 'on']),
        onRds,
      ),
    );
  findings.push(
    pgaudit
      ? {
          level: 'ok',
          message: "pgaudit is loaded: Sesame sets pgaudit.log = 'all' (and pgaudit.log_parameter = off) on each person's user.",
        }
      : {
          level: 'ok',
          message: `pgaudit is not loaded (shared_preload_libraries), so Sesame sets log_statement = 'all' on each person's user instead. Optional: for pgaudit's statement classes and object names, add pgaudit to shared_preload_libraries (${onRds ? 'in the DB parameter group' : 'in postgresql.conf'}; a restart) and run CREATE EXTENSION pgaudit.`,
        },
  );
  findings.push(await perUserFinding(m, c, pgaudit));
  const prefix = prefixFinding(settings, onRds, where.logsReadBySesame);
  if (prefix) findings.push(prefix);
  return findings;
}

/** A server setting to change: in the DB parameter group on RDS, with ALTER SYSTEM elsewhere. */
function serverSettingFinding(lack: string, changes: [string, string][], onRds: boolean): CheckFinding {
  if (onRds) {
    const what = changes.map(([name, value]) => `${name} to ${value === 'on' ? '1' : value}`).join(' and ');
    return { level: 'warn', message: `${lack} Set ${what} in the instance's DB parameter group (the cluster's for Aurora).` };
  }
  return {
    level: 'warn',
    message: `${lack} Set ${changes.length > 1 ? 'them' : 'it'} in postgresql.conf, or as a superuser run the statements below.`,
    fixSql: [...changes.map(([name, value]) => `ALTER SYSTEM SET ${name} = ${sql.quoteLiteral(value)};`), 'SELECT pg_reload_conf();'],
  };
}

async function perUserFinding(m: Session, c: ConnectorRow, pgaudit: boolean): Promise<CheckFinding> {
  if (pgaudit && (await connectorMaySet(m, c, 'pgaudit'))) {
    return { level: 'ok', message: "The connector may set pgaudit.log on people's users: their statements are logged." };
  }
  const logStatement = await connectorMaySet(m, c, 'log_statement');
  const wanted: LoggingParameter[] = pgaudit ? ['pgaudit.log', 'pgaudit.log_parameter'] : ['log_statement'];
  if (logStatement && !pgaudit) {
    return { level: 'ok', message: "The connector may set log_statement on people's users: their statements are logged." };
  }
  const lack = logStatement
    ? "The connector may not set pgaudit.log on people's users, so Sesame sets log_statement there instead."
    : `The connector may not set ${pgaudit ? 'pgaudit.log or log_statement' : 'log_statement'} on people's users, so their statements are not logged (grants go ahead without it).`;
  if (majorVersion(c) >= 15) {
    return { level: 'warn', message: `${lack} Let it:`, fixSql: [sql.adminGrantSetOnParameter(wanted, c.connector)] };
  }
  const first = wanted[0]!;
  return {
    level: 'warn',
    message: `${lack} On PostgreSQL ${majorVersion(c)} only a superuser (on RDS, rds_superuser: the master user) can set ${first} on a role: run ALTER ROLE <user> SET ${first} = 'all' as the master user for each person's user, or upgrade to 15 or later, where GRANT SET ON PARAMETER lets the connector do it.`,
  };
}

/** Sesame reads stderr logs by RDS's prefix; csvlog and jsonlog carry the same fields in their own columns. */
function prefixFinding(settings: Map<string, SettingRow>, onRds: boolean, logsReadBySesame: boolean): CheckFinding | undefined {
  const destinations = (settings.get('log_destination')?.setting ?? 'stderr').split(',').map((d) => d.trim());
  const prefix = settings.get('log_line_prefix')?.setting;
  if (prefix === undefined || prefix === RDS_LOG_LINE_PREFIX || !destinations.includes('stderr')) return undefined;
  if (destinations.includes('csvlog') || destinations.includes('jsonlog')) return undefined;
  const finding = serverSettingFinding(
    `log_line_prefix is ${JSON.stringify(prefix)}, and Sesame reads the server's log entries by RDS's default prefix, ${RDS_LOG_LINE_PREFIX}.`,
    [['log_line_prefix', RDS_LOG_LINE_PREFIX]],
    onRds,
  );
  // Where Sesame reads the logs (RDS), it could read none of them: audit does not work at all.
  return logsReadBySesame ? { ...finding, level: 'error' } : finding;
}
