import { privilegePlan } from '../../domain/privileges.ts';
import type { CheckFinding } from '../../ports/TargetDatabase.ts';
import {
  lacksOnlyCreateRole,
  mayGrantRole,
  mayTakeOwner,
  majorVersion,
  type ConnectorRow,
  type DatabaseRow,
  type RoleRow,
  type UngrantableRow,
  whyNotSelfGranted,
} from './connectorRules.ts';
import type { Session } from './session.ts';
import * as sql from './statements.ts';
import { quoteIdent } from './statements.ts';
import type { IntegrationConfig } from '../../config/schema.ts';

/*
 * The set-up check: what the connector lacks to grant what the integration offers, each gap
 * with the SQL an admin runs to close it (sesame check, and the error of a grant that needs it).
 */

/** Statements an admin must run, collected while looking at a scope. */
export class SetupFixes {
  readonly #sql: string[] = [];
  readonly reasons: string[] = [];
  add(reason: string, statements: readonly string[]): void {
    this.reasons.push(reason);
    for (const s of statements) if (!this.#sql.includes(s)) this.#sql.push(s);
  }
  get sql(): string[] {
    return [...this.#sql];
  }
  get empty(): boolean {
    return this.reasons.length === 0;
  }
}

/** `ALTER ROLE … CREATEROLE` for a connector that lacks only CREATEROLE to take memberships itself. */
export function createRoleFix(c: ConnectorRow): string[] | undefined {
  return lacksOnlyCreateRole(c) ? [sql.adminAlterRole(c.connector, 'CREATEROLE')] : undefined;
}

interface OwnerGap {
  databases: string[];
  reasons: string[];
  connectorIsAdmin: boolean;
}

function ownerGap(owners: Map<string, OwnerGap>, owner: string, connectorIsAdmin: boolean): OwnerGap {
  const known = owners.get(owner);
  if (known) return known;
  const gap: OwnerGap = { databases: [], reasons: [], connectorIsAdmin };
  owners.set(owner, gap);
  return gap;
}

function ownerFinding(c: ConnectorRow, owner: string, gap: OwnerGap): CheckFinding {
  const where = [...gap.reasons, ...(gap.databases.length ? [`objects in ${gap.databases.join(', ')} belong to ${owner}`] : [])].join('; ');
  const lacks = `The connector does not have the privileges of ${owner}, which it needs to grant there: ${where}.`;
  const fixSql = [sql.adminGrantMembership(owner, c.connector)];
  if (mayTakeOwner(c, gap.connectorIsAdmin)) {
    return {
      level: 'warn',
      message: `${lacks} Sesame will take membership of ${owner} itself when first needed and record it in the audit trail; an admin may grant it now instead.`,
      fixSql,
    };
  }
  const withCreateRole = createRoleFix(c);
  if (withCreateRole) {
    return {
      level: 'error',
      message: `${lacks} It cannot take that membership itself because ${whyNotSelfGranted(c)}, so grants there fail. Give it CREATEROLE (below); Sesame then takes the membership when first needed.`,
      fixSql: withCreateRole,
    };
  }
  return {
    level: 'error',
    message: `${lacks} It cannot take that membership itself: ${whyNotSelfGranted(c)}. Grants there fail until an admin runs the statement below.`,
    fixSql,
  };
}

/**
 * PostgreSQL checks VALID UNTIL only against password logins; RDS IAM tokens pass through
 * rds_iam's PAM path, which ignores it. Said plainly wherever an admin chooses IAM.
 */
export const IAM_EXPIRY_FINDING: CheckFinding = {
  level: 'warn',
  message:
    "With userAuth: iam, PostgreSQL's VALID UNTIL does not stop IAM token logins, so expiry rests on Sesame running: at revocation Sesame disables login (NOLOGIN), takes rds_iam away and ends the sessions, but between a grant's expiry and that revocation (one expire interval while Sesame runs; as long as it is down otherwise) a person whose AWS identity may still call rds-db:connect can log in with a fresh token. Keep Sesame running (several replicas), and scope the people's IAM policy to the database user names Sesame gives them.",
};

export function connectorAttributeFindings(c: ConnectorRow): CheckFinding[] {
  const findings: CheckFinding[] = [];
  if (c.is_superuser) {
    findings.push({
      level: 'warn',
      message: `The connector ${c.connector} is a superuser; Sesame needs only CREATEROLE and rds_superuser (or pg_signal_backend).`,
    });
    return findings;
  }
  findings.push(
    c.can_create_roles
      ? { level: 'ok', message: 'The connector may create roles (CREATEROLE).' }
      : {
          level: 'error',
          message: 'The connector may not create roles: Sesame cannot create users.',
          fixSql: [sql.adminAlterRole(c.connector, 'CREATEROLE')],
        },
  );
  findings.push(
    c.can_signal_backends
      ? { level: 'ok', message: 'The connector may end sessions (pg_signal_backend).' }
      : {
          level: 'error',
          message: "The connector may not end other users' sessions (pg_signal_backend): revoked users could stay connected.",
          fixSql: [sql.adminGrantMembership(c.on_rds ? 'rds_superuser' : 'pg_signal_backend', c.connector)],
        },
  );
  return findings;
}

export function describeObject(o: UngrantableRow): string {
  return o.kind === 'schema' ? `schema ${o.schema_name}` : `${o.kind} ${o.schema_name}.${o.object_name}`;
}

export function adminGrantFor(o: UngrantableRow, connector: string): string {
  const qualified =
    o.kind === 'schema'
      ? quoteIdent(o.schema_name)
      : o.kind === 'routine'
        ? `${quoteIdent(o.schema_name)}.${o.object_name}`
        : `${quoteIdent(o.schema_name)}.${quoteIdent(o.object_name ?? '')}`;
  const kind = ({ schema: 'SCHEMA', table: 'TABLE', sequence: 'SEQUENCE', routine: 'ROUTINE' } as const)[o.kind];
  return sql.adminGrantWithGrantOption(o.missing, kind, qualified, connector);
}

/**
 * What the connector lacks on every database of the server: connecting, and the privileges of
 * the roles that own the objects (with the statement an admin runs for each).
 */
export async function ownerFindings(
  m: Session,
  c: ConnectorRow,
  on: <T>(database: string, work: (s: Session) => Promise<T>) => Promise<T>,
): Promise<CheckFinding[]> {
  const findings: CheckFinding[] = [];
  const owners = new Map<string, OwnerGap>();
  const databases = await m.rows<DatabaseRow>(sql.databasesInScope(undefined, []));
  for (const db of databases) {
    if (!db.connector_can_connect) {
      if (db.owner_is_superuser) {
        findings.push({
          level: 'error',
          message: `The connector cannot connect to ${db.name}, which belongs to the superuser ${db.owner}.`,
          fixSql: [sql.adminGrantWithGrantOption(['CONNECT', 'TEMPORARY'], 'DATABASE', quoteIdent(db.name), c.connector)],
        });
      } else {
        ownerGap(owners, db.owner, db.connector_is_admin_of_owner).reasons.push(
          `the connector may not connect to ${db.name}, which belongs to ${db.owner} and does not let PUBLIC connect`,
        );
      }
      continue;
    }
    findings.push({ level: 'ok', message: `The connector can connect to ${db.name}.` });
    const rows = await on(db.name, (s) =>
      s.rows<UngrantableRow>(sql.ungrantableObjects({ sequences: true, routines: true }, privilegePlan('admin', 'database'))),
    );
    const bySuperuser = new Map<string, UngrantableRow[]>();
    for (const row of rows) {
      if (row.owner_is_superuser) {
        if (row.missing.length > 0) bySuperuser.set(row.owner, [...(bySuperuser.get(row.owner) ?? []), row]);
      } else {
        const gap = ownerGap(owners, row.owner, row.connector_is_admin_of_owner);
        if (!gap.databases.includes(db.name)) gap.databases.push(db.name);
      }
    }
    for (const [owner, objects] of bySuperuser) {
      findings.push({
        level: 'warn',
        message: `In ${db.name}, ${objects.length} object(s) belong to the superuser ${owner} (${objects
          .slice(0, 5)
          .map(describeObject)
          .join(
            ', ',
          )}${objects.length > 5 ? ', …' : ''}). Sesame can grant on them only what PUBLIC already has; to grant more there, an admin must grant those privileges to ${c.connector} WITH GRANT OPTION.`,
      });
    }
  }
  for (const [owner, gap] of owners) findings.push(ownerFinding(c, owner, gap));
  return findings;
}

/** Whether the connector may grant each role the integration lists as grantable (and rds_iam). */
export async function grantableRoleFindings(m: Session, c: ConnectorRow, config: IntegrationConfig): Promise<CheckFinding[]> {
  const wanted = [...config.grantableRoles];
  if (config.userAuth === 'iam') wanted.push(sql.RDS_IAM_ROLE);
  if (wanted.length === 0) return [];
  const roles = await m.rows<RoleRow>(sql.rolesByName(wanted));
  return wanted.map((name): CheckFinding => {
    const role = roles.find((r) => r.name === name);
    const what = name === sql.RDS_IAM_ROLE && !config.grantableRoles.includes(name) ? 'IAM login role' : 'grantable role';
    if (!role) {
      return {
        level: 'error',
        message:
          name === sql.RDS_IAM_ROLE
            ? `The role ${name} does not exist: userAuth: iam works on RDS and Aurora only.`
            : `The grantable role ${name} does not exist. Create it, or remove it from grantableRoles.`,
      };
    }
    if (role.is_superuser) return { level: 'error', message: `The grantable role ${name} is a superuser; Sesame never grants it.` };
    if (mayGrantRole(c, role)) return { level: 'ok', message: `The connector may grant the ${what} ${name}.` };
    const withCreateRole = createRoleFix(c);
    return {
      level: 'error',
      message: withCreateRole
        ? `The connector may not grant the ${what} ${name}: ${whyNotSelfGranted(c)}. Give it CREATEROLE (below), or ADMIN OPTION on ${name}.`
        : `The connector may not grant the ${what} ${name}: on PostgreSQL ${majorVersion(c)} it needs ADMIN OPTION on it.`,
      fixSql: withCreateRole ?? [sql.adminGrantMembership(name, c.connector, true)],
    };
  });
}
