import { ConflictError, ConnectorSetupError, NotAllowedError, NotFoundError } from '../../domain/errors.ts';
import type { BuiltinPermission } from '../../domain/permission.ts';
import { coversOwnedSequences, privilegePlan, splitPlan, type PrivilegePlan } from '../../domain/privileges.ts';
import { formatTarget, targetScope, type Target } from '../../domain/target.ts';
import type { Logger } from '../../logger.ts';
import type { GrantInput, StatementLogging } from '../../ports/TargetDatabase.ts';
import type { KeyedMutex } from '../../lib/KeyedMutex.ts';
import {
  mayGrantRole,
  mayTakeOwner,
  type ConnectorRow,
  type DatabaseRow,
  type RoleRow,
  type UngrantableRow,
  whyNotSelfGranted,
} from './connectorRules.ts';
import { groupRoleComment, groupRoleName } from './groupRoles.ts';
import { sqlState } from './connection.ts';
import type { Session } from './session.ts';
import { adminGrantFor, createRoleFix, describeObject, SetupFixes } from './setupCheck.ts';
import { StatementLoggingSetter } from './statementLogging.ts';
import * as sql from './statements.ts';
import { quoteIdent } from './statements.ts';
import type { ObjectScope, Statement } from './statements.ts';
import type { IntegrationConfig } from '../../config/schema.ts';

/*
 * The steps of a grant on one integration's server: the group role of a scope and its
 * privileges (taking the owners' memberships where PostgreSQL lets the connector), the
 * person's user and its memberships, and the checks that Sesame only ever touches roles it
 * made for the person they belong to. The engine (PostgresTargetDatabase) runs them in order
 * under its locks; see the comment at the top of that file for the grant model.
 */

/** Grants that go on the person's own user, by database, once the user exists. */
export type OwnGrants = { database: string; statements: (username: string) => Statement[] }[];

/** Recorded whenever the connector gives itself a role membership. */
export interface ConnectorAuditEvent {
  action: 'connector.self_granted';
  details: Record<string, unknown>;
}

export interface GrantStepsContext {
  integration: string;
  config: IntegrationConfig;
  /** Serialises work on one group role across the engine's concurrent grants. */
  locks: KeyedMutex;
  audit?: (event: ConnectorAuditEvent) => Promise<void>;
  logger?: Logger;
  /** Runs work in a database: on the held session when it is that one. */
  on: <T>(held: Session, database: string, work: (s: Session) => Promise<T>) => Promise<T>;
}

export class GrantSteps {
  readonly integration: string;
  readonly #config: IntegrationConfig;
  readonly #locks: KeyedMutex;
  readonly #options: Pick<GrantStepsContext, 'audit' | 'logger'>;
  readonly #ctx: GrantStepsContext;
  /** What the connector may set on people's users for statement logging, on this server. */
  readonly statementLogging: StatementLoggingSetter;

  constructor(ctx: GrantStepsContext) {
    this.#ctx = ctx;
    this.statementLogging = new StatementLoggingSetter({ integration: ctx.integration, logger: ctx.logger });
    this.integration = ctx.integration;
    this.#config = ctx.config;
    this.#locks = ctx.locks;
    this.#options = { audit: ctx.audit, logger: ctx.logger };
  }

  #on<T>(held: Session, database: string, work: (s: Session) => Promise<T>): Promise<T> {
    return this.#ctx.on(held, database, work);
  }

  // ── Grants ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Makes sure the connector may grant what `permission` needs on `target` (taking owner
   * memberships where PostgreSQL lets it), creates the group role if needed and (re-)applies
   * its privileges. Returns the group role's name.
   */
  async prepareGroupRole(
    m: Session,
    connector: ConnectorRow,
    permission: BuiltinPermission,
    target: Target,
    username: string,
  ): Promise<{ group: string; own: OwnGrants }> {
    const group = groupRoleName(permission, target);
    const comment = groupRoleComment(permission, target);
    const roles = await m.rows<RoleRow>(sql.rolesByName([username, group]));
    const user = roles.find((r) => r.name === username);
    if (user) this.assertManagedUser(user);
    const existing = roles.find((r) => r.name === group);
    if (existing && existing.comment !== comment) throw this.notOurs(group);

    // In this process, then on the server for every replica.
    return this.#locks.run(`group:${group}`, async () => {
      await m.rows(sql.lockGroupRole(group));
      try {
        return await this.#prepareLocked(m, connector, permission, target, group, existing !== undefined, comment);
      } finally {
        await m.rows(sql.unlockGroupRole(group));
      }
    });
  }

  async #prepareLocked(
    m: Session,
    connector: ConnectorRow,
    permission: BuiltinPermission,
    target: Target,
    group: string,
    exists: boolean,
    comment: string,
  ): Promise<{ group: string; own: OwnGrants }> {
    const scope = targetScope(target);
    const plan = privilegePlan(permission, scope);
    const databases = await m.rows<DatabaseRow>(sql.databasesInScope(target.database, plan.database));
    if (target.database !== undefined && databases.length === 0) {
      throw new NotFoundError(
        `There is no database ${JSON.stringify(target.database)} on ${this.integration} that accepts connections. Check the target's spelling.`,
      );
    }
    const fixes = new SetupFixes();
    const reachable = await this.#reachableDatabases(m, connector, databases, fixes);
    const objectScope = objectScopeOf(permission, target);
    for (const database of reachable) {
      await this.#on(m, database, async (s) => {
        if (target.schema !== undefined) await this.#assertTargetExists(s, target.schema, target.table);
        const rows = await s.rows<UngrantableRow>(sql.ungrantableObjects(objectScope, plan));
        await this.#resolveOwners(m, connector, database, rows, fixes);
      });
    }
    if (!fixes.empty) {
      throw new ConnectorSetupError(
        `The connector ${connector.connector} cannot grant ${permission} on ${formatTarget(target)}: ${fixes.reasons.join('; ')}.`,
        fixes.sql,
      );
    }
    if (!exists) await this.createRole(m, group, sql.createGroupRole(group), comment);
    const ownGrants = await this.#grantToGroup(m, databases, plan, objectScope, target, group);
    return { group, own: ownGrants };
  }

  /**
   * The databases in scope the connector can work in, taking the owner's membership where
   * PostgreSQL lets it; what stays out of reach is added to `fixes`.
   */
  async #reachableDatabases(m: Session, connector: ConnectorRow, databases: DatabaseRow[], fixes: SetupFixes): Promise<string[]> {
    const reachable: string[] = [];
    for (const db of databases) {
      const needsOwner = !db.connector_can_connect || db.missing.length > 0;
      if (!needsOwner || db.connector_has_owner) {
        reachable.push(db.name);
        continue;
      }
      const obtained = await this.#obtainOwner(
        m,
        connector,
        db.owner,
        db.owner_is_superuser,
        db.connector_is_admin_of_owner,
        db.name,
        fixes,
      );
      if (obtained) reachable.push(db.name);
      else if (db.owner_is_superuser) {
        const privileges = [...new Set([...(db.connector_can_connect ? [] : ['CONNECT']), ...db.missing])];
        fixes.add(`${db.name} belongs to the superuser ${db.owner}`, [
          sql.adminGrantWithGrantOption(privileges, 'DATABASE', quoteIdent(db.name), connector.connector),
        ]);
        if (db.connector_can_connect) reachable.push(db.name);
      }
    }
    return reachable;
  }

  /**
   * Gives `group` the shared part of the plan in every database in scope, and returns what goes
   * on the person's own user instead (CREATE), to be granted once the user exists.
   */
  async #grantToGroup(
    m: Session,
    databases: DatabaseRow[],
    plan: PrivilegePlan,
    objectScope: ObjectScope,
    target: Target,
    group: string,
  ): Promise<OwnGrants> {
    const { shared, own } = splitPlan(plan);
    await m.batch(databases.map((db) => sql.grantOnDatabase(shared.database, db.name, group)));
    const ownGrants: OwnGrants = [];
    if (own.database.length > 0) {
      const names = databases.map((db) => db.name);
      ownGrants.push({ database: m.database, statements: (user) => names.map((d) => sql.grantOnDatabase(own.database, d, user)) });
    }
    for (const db of databases) {
      await this.#on(m, db.name, async (s) => {
        const { statements, schemas } = await this.#objectGrants(s, shared, objectScope, target, group);
        await s.batch(statements);
        if (own.schema.length > 0 && schemas.length > 0) {
          ownGrants.push({ database: db.name, statements: (user) => [sql.grantOnSchemas(own.schema, schemas, user)] });
        }
      });
    }
    return ownGrants;
  }

  /** The statements that give `group` its privileges on the objects of one database. */
  async #objectGrants(
    s: Session,
    plan: PrivilegePlan,
    scope: ObjectScope,
    target: Target,
    group: string,
  ): Promise<{ statements: Statement[]; schemas: string[] }> {
    if (target.table !== undefined && target.schema !== undefined) {
      const statements = [sql.grantOnSchemas(plan.schema, [target.schema], group)];
      statements.push(sql.grantOnTable(plan.tables, target.schema, target.table, group));
      if (scope.sequences) {
        const sequences = await s.rows<{ schema_name: string; sequence_name: string }>(sql.ownedSequences(target.schema, target.table));
        if (sequences.length > 0) {
          statements.push(
            sql.grantOnSequences(
              plan.sequences,
              sequences.map((q) => ({ schema: q.schema_name, name: q.sequence_name })),
              group,
            ),
          );
        }
      }
      return { statements, schemas: [target.schema] };
    }
    const schemas =
      target.schema !== undefined ? [target.schema] : (await s.rows<{ name: string }>(sql.schemasOfDatabase())).map((r) => r.name);
    if (schemas.length === 0) return { statements: [], schemas };
    const statements = [
      sql.grantOnSchemas(plan.schema, schemas, group),
      sql.grantOnAllInSchemas('TABLES', plan.tables, schemas, group),
      sql.grantOnAllInSchemas('SEQUENCES', plan.sequences, schemas, group),
    ];
    if (plan.routines.length > 0) statements.push(sql.grantOnAllInSchemas('ROUTINES', plan.routines, schemas, group));
    return { statements, schemas };
  }

  async #assertTargetExists(s: Session, schema: string, table: string | undefined): Promise<void> {
    const [row] = await s.rows<{ schema_exists: boolean; table_exists: boolean }>(sql.targetObjectsExist(schema, table));
    if (!row?.schema_exists) {
      throw new NotFoundError(
        `There is no schema ${JSON.stringify(schema)} in ${s.database} on ${this.integration}. Check the target's spelling.`,
      );
    }
    if (!row.table_exists) {
      throw new NotFoundError(
        `There is no table or view ${JSON.stringify(table)} in ${s.database}/${schema} on ${this.integration}. Check the target's spelling.`,
      );
    }
  }

  /** Takes the memberships the objects' owners require, or records what an admin must run. */
  async #resolveOwners(m: Session, connector: ConnectorRow, database: string, rows: UngrantableRow[], fixes: SetupFixes): Promise<void> {
    const superuserObjects: UngrantableRow[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      if (row.owner_is_superuser) {
        if (row.missing.length > 0) superuserObjects.push(row);
        continue;
      }
      if (seen.has(row.owner)) continue;
      seen.add(row.owner);
      await this.#obtainOwner(m, connector, row.owner, false, row.connector_is_admin_of_owner, database, fixes);
    }
    if (superuserObjects.length > 0) {
      fixes.add(
        `in ${database}, ${superuserObjects.map(describeObject).join(', ')} belong to a superuser, and the connector holds no grant option there`,
        [sql.adminConnect(database), ...superuserObjects.map((o) => adminGrantFor(o, connector.connector))],
      );
    }
  }

  /**
   * Gives the connector the privileges of `owner` where PostgreSQL lets it (CREATEROLE up to
   * 15; its ADMIN option from 16), recording it in the audit trail first. Otherwise records the
   * statement an admin must run. Returns whether the connector now has them.
   */
  async #obtainOwner(
    m: Session,
    connector: ConnectorRow,
    owner: string,
    ownerIsSuperuser: boolean,
    connectorIsAdminOfOwner: boolean,
    database: string,
    fixes: SetupFixes,
  ): Promise<boolean> {
    if (ownerIsSuperuser) return false;
    const mayTakeIt = mayTakeOwner(connector, connectorIsAdminOfOwner);
    if (!mayTakeIt) {
      fixes.add(
        `objects in ${database} belong to ${owner}, and the connector cannot take that role's privileges itself: ${whyNotSelfGranted(connector)}`,
        createRoleFix(connector) ?? [sql.adminGrantMembership(owner, connector.connector)],
      );
      return false;
    }
    const statement = sql.grantRole(owner, connector.connector);
    await this.#options.audit?.({
      action: 'connector.self_granted',
      details: { integration: this.integration, connector: connector.connector, role: owner, database, sql: statement.text },
    });
    await m.batch([statement]);
    this.#options.logger?.info(
      { integration: this.integration, role: owner, database },
      'the connector took membership of an owner role to grant on its objects',
    );
    return true;
  }

  async checkGrantableRole(m: Session, connector: ConnectorRow, role: string, username: string): Promise<void> {
    const rows = await m.rows<RoleRow>(sql.rolesByName([role, username]));
    const user = rows.find((r) => r.name === username);
    if (user) this.assertManagedUser(user);
    const found = rows.find((r) => r.name === role);
    if (!found) {
      throw new NotFoundError(
        `The role ${JSON.stringify(role)} does not exist on ${this.integration}. Ask an admin to create it or to remove it from grantableRoles.`,
      );
    }
    if (found.is_superuser) {
      throw new NotAllowedError(`The role ${role} is a superuser role; Sesame never grants it.`);
    }
    if (!mayGrantRole(connector, found)) {
      throw new ConnectorSetupError(
        `The connector ${connector.connector} may not grant ${role}: ${whyNotSelfGranted(connector)}.`,
        createRoleFix(connector) ?? [sql.adminGrantMembership(role, connector.connector, true)],
      );
    }
  }

  /**
   * Creates or re-enables the person's user and makes it a member of `role`; with
   * `auditStatements`, sets statement logging on it in the same round trip when the way is known.
   */
  async ensureUser(
    m: Session,
    connector: ConnectorRow,
    username: string,
    input: GrantInput,
    role: string,
  ): Promise<{ created: boolean; statementLogging?: StatementLogging }> {
    const audited = input.auditStatements === true;
    const memberships = [sql.grantMembership(role, username, connector.server_version_num)];
    if (this.#config.userAuth === 'iam') {
      const [iam] = await m.rows<RoleRow>(sql.rolesByName([sql.RDS_IAM_ROLE]));
      if (!iam) {
        throw new NotFoundError(
          `The role ${sql.RDS_IAM_ROLE} does not exist on ${this.integration}: userAuth: iam works on RDS and Aurora only. Set userAuth: password for this integration.`,
        );
      }
      if (!mayGrantRole(connector, iam)) {
        throw new ConnectorSetupError(`The connector ${connector.connector} may not grant ${sql.RDS_IAM_ROLE}.`, [
          sql.adminGrantMembership(sql.RDS_IAM_ROLE, connector.connector, true),
        ]);
      }
      memberships.push(sql.grantMembership(sql.RDS_IAM_ROLE, username, connector.server_version_num));
    }
    const [user] = await m.rows<RoleRow>(sql.rolesByName([username]));
    if (user) {
      this.assertManagedUser(user);
      this.assertOwnedBy(user, input.ownerId);
      const statementLogging = await this.statementLogging.send(m, username, audited, [
        sql.enableLogin(username, input.validUntil),
        ...memberships,
      ]);
      return { created: false, statementLogging };
    }
    const created = await this.createRole(
      m,
      username,
      sql.createUser(username, input.validUntil),
      sql.managedUserMark(input.ownerLabel, input.ownerId),
    );
    if (!created) {
      const [raced] = await m.rows<RoleRow>(sql.rolesByName([username]));
      if (raced) this.assertOwnedBy(raced, input.ownerId);
    }
    const statementLogging = await this.statementLogging.send(m, username, audited, [
      ...(created ? [] : [sql.enableLogin(username, input.validUntil)]),
      ...memberships,
    ]);
    return { created, statementLogging };
  }

  /**
   * Creates a role and marks it. Returns false when another session created it first and it
   * carries the same kind of mark (then it is Sesame's and is used as it is).
   */
  async createRole(m: Session, role: string, create: Statement, comment: string): Promise<boolean> {
    try {
      await m.batch([create, sql.commentOnRole(role, comment)]);
      return true;
    } catch (err) {
      if (sqlState(err) !== '42710' && sqlState(err) !== '23505') throw err;
      const [existing] = await m.rows<RoleRow>(sql.rolesByName([role]));
      const sameKind = comment.startsWith(sql.MANAGED_USER_MARK)
        ? existing?.comment?.startsWith(sql.MANAGED_USER_MARK)
        : existing?.comment === comment;
      if (!sameKind) throw this.notOurs(role);
      return false;
    }
  }

  assertManagedUser(role: RoleRow): void {
    if (!role.comment?.startsWith(sql.MANAGED_USER_MARK)) throw this.notOurs(role.name);
  }

  /** The user's mark names its person; another person never gets that user (PRODUCT.md §5). */
  assertOwnedBy(user: RoleRow, ownerId: string | undefined): void {
    const marked = sql.ownerIdOfMark(user.comment);
    if (ownerId === undefined || marked === undefined || marked === ownerId) return;
    throw new ConflictError(
      `The database user ${user.name} on ${this.integration} belongs to another person, and two people never share a database user. An admin must change the integration's userNameTemplate so that every person gets their own name.`,
    );
  }

  notOurs(role: string): ConflictError {
    return new ConflictError(
      `The name ${role} is already taken on ${this.integration} by a role Sesame did not create, and Sesame never changes such roles. Ask a database admin to rename or drop that role, or set the integration's userNameTemplate so that Sesame picks other names.`,
    );
  }
}

export function objectScopeOf(permission: BuiltinPermission, target: Target): ObjectScope {
  const plan = privilegePlan(permission, targetScope(target));
  return {
    schema: target.schema,
    table: target.table,
    sequences: plan.sequences.length > 0 && (target.table === undefined || coversOwnedSequences(permission)),
    routines: plan.routines.length > 0,
  };
}
