/*
 * The grant model, chosen on purpose.
 *
 * Sesame never grants privileges on tables to a person's user. It grants them to a group role
 * per (physical scope, permission), `sesame_<ro|rw|admin>_<hash>`, and the person's user joins
 * that group. Why:
 * - Grant and revoke are one cheap, atomic statement each (`GRANT group TO user`, `REVOKE group
 *   FROM user`) whatever the size of the scope; a schema of 10,000 tables does not mean 10,000
 *   ACL entries per person, nor 10,000 revokes that can half fail.
 * - Overlapping grants of one person reduce to set difference: the service passes the roles of
 *   the person's other live grants (`keepRoles`), and revoking never strips a privilege that
 *   another grant still gives, because no privilege sits on the user itself.
 * - Cleanup stays simple: the user owns nothing Sesame gave it, so dropping it is
 *   `REVOKE`s, `REASSIGN OWNED`, `DROP OWNED`, `DROP ROLE`.
 * - The hash is of the physical scope (database, schema, table) and the permission, not of the
 *   integration: several integrations pointing at one server share the groups, as they share
 *   the person's user.
 * The group's privileges are re-applied at every grant whose scope changed since the last one
 * (repeatGrants.ts), so objects created since are covered. `role:<name>` grants membership of
 * an existing role the integration lists under `grantableRoles`, never altering that role.
 *
 * The connector is not a superuser. To grant on objects that belong to other roles it needs the
 * privileges of their owners. PostgreSQL 15 and earlier let a CREATEROLE role take membership
 * of any non-superuser role, so Sesame does that itself when first needed and records it in the
 * audit trail. From 16 on, CREATEROLE only gives ADMIN on roles it created; for the others an
 * admin has to grant the membership, and the request fails with a ConnectorSetupError holding
 * the exact statement instead of a bare "permission denied".
 */
import { effectiveSslMode, type IntegrationConfig } from '../../config/schema.ts';
import {
  ConnectorSetupError,
  InputError,
  isSesameError,
  NotAllowedError,
  NotFoundError,
  TargetUnavailableError,
} from '../../domain/errors.ts';
import { validateIdentifier } from '../../domain/identifiers.ts';
import { isBuiltinPermission, roleOf, type BuiltinPermission } from '../../domain/permission.ts';
import { formatTarget, validateTarget } from '../../domain/target.ts';
import { describeError, forgetSecret, redact, registerSecret, type Logger } from '../../logger.ts';
import type {
  CatalogQuery,
  CheckReport,
  ConnectionInfo,
  GrantInput,
  GrantResult,
  DropUserResult,
  IamResource,
  LeftoverRemoval,
  ManagedUserState,
  RevokeInput,
  RevokeResult,
  TargetDatabase,
} from '../../ports/TargetDatabase.ts';
import { ConnectionPools, type ConnectionTarget, type CredentialProvider } from './connection.ts';
import { searchCatalog } from './catalogSearch.ts';
import { tlsFindings } from './tlsFindings.ts';
import { KeyedMutex } from '../../lib/KeyedMutex.ts';
import { lazy } from '../../lib/lazy.ts';
import { scramSha256Verifier } from './scram.ts';
import * as sql from './statements.ts';
import { retryingConflicts, ServerSessions } from './serverSessions.ts';
import { LeftoverSweeper, type SweepResult } from './sweeper.ts';
import { GrantSteps, type ConnectorAuditEvent, type OwnGrants } from './grantSteps.ts';
import { RepeatGrants } from './repeatGrants.ts';
import { isGroupRole } from './groupRoles.ts';
import type { ConnectorRow, RoleRow } from './connectorRules.ts';
import { connectorAttributeFindings, grantableRoleFindings, IAM_EXPIRY_FINDING, ownerFindings } from './setupCheck.ts';
import { statementLoggingFindings } from './statementLogging.ts';
import type { Session, StatementObserver } from './session.ts';
export type { StatementObserver } from './session.ts';

export type { ConnectorAuditEvent } from './grantSteps.ts';

export interface PostgresTargetDatabaseOptions {
  config: IntegrationConfig;
  /** The connector's password or IAM token. */
  credentials: CredentialProvider;
  /** The server identity (RDS resource ID); default `host:port`. */
  serverKey?: string | (() => Promise<string>);
  /** Where an RDS integration without `host` in its config is reached. */
  endpoint?: () => Promise<{ host: string; port: number }>;
  /** With `userAuth: iam`: the RDS resource people's IAM logins name. */
  iamResource?: () => Promise<IamResource>;
  audit?: (event: ConnectorAuditEvent) => Promise<void>;
  logger?: Logger;
  onStatement?: StatementObserver;
}

/**
 * One integration's PostgreSQL server, reached through the integration's connector. See the
 * comment at the top of this file for the grant model and the connector's limits.
 */
export class PostgresTargetDatabase implements TargetDatabase {
  readonly integration: string;
  readonly #options: PostgresTargetDatabaseOptions;
  readonly #config: IntegrationConfig;
  readonly #sessions: ServerSessions;
  readonly #locks = new KeyedMutex();
  readonly #steps: GrantSteps;
  readonly #sweeper: LeftoverSweeper;
  readonly #repeats: RepeatGrants;

  constructor(options: PostgresTargetDatabaseOptions) {
    this.#options = options;
    this.#config = options.config;
    this.integration = options.config.name;
    this.#sessions = new ServerSessions({
      integration: this.integration,
      defaultDatabase: this.#config.database,
      pools: new ConnectionPools({ target: () => this.#target(), credentials: options.credentials }),
      onStatement: options.onStatement,
    });
    this.#steps = new GrantSteps({
      integration: this.integration,
      config: this.#config,
      locks: this.#locks,
      audit: options.audit,
      logger: options.logger,
      on: (held, database, work) => this.#sessions.on(held, database, work),
    });
    this.#repeats = new RepeatGrants(this.#config, this.#sessions, this.#steps.statementLogging, options.logger);
    this.#sweeper = new LeftoverSweeper({
      integration: this.integration,
      logger: options.logger,
      steps: this.#steps,
      on: (held, database, work) => this.#sessions.on(held, database, work),
    });
  }

  async serverKey(): Promise<string> {
    const key = this.#options.serverKey;
    if (typeof key === 'string') return key;
    if (key) return key();
    const { host, port } = await this.#endpoint();
    return `${host}:${port}`;
  }

  async connectionInfo(): Promise<ConnectionInfo> {
    const { host, port } = await this.#endpoint();
    const info: ConnectionInfo = { host, port, database: this.#config.database, sslMode: effectiveSslMode(this.#config) };
    if (this.#config.userAuth === 'iam' && this.#options.iamResource) info.iam = await this.#options.iamResource();
    return info;
  }

  async grant(input: GrantInput): Promise<GrantResult> {
    const username = validateIdentifier(input.username, 'user');
    const target = validateTarget(input.target);
    if (target.integration !== this.integration) {
      throw new InputError(`The target ${formatTarget(target)} is not on the integration ${this.integration}.`);
    }
    sql.timestampLiteral(input.validUntil);
    const grantedRole = roleOf(input.permission);
    if (grantedRole !== undefined) {
      validateIdentifier(grantedRole, 'role');
      if (!this.#config.grantableRoles.includes(grantedRole)) {
        throw new NotAllowedError(
          `The role ${JSON.stringify(grantedRole)} is not one that ${this.integration} may grant. An admin can add it to the integration's grantableRoles.`,
        );
      }
    } else if (!isBuiltinPermission(input.permission)) {
      throw new InputError(`${String(input.permission)} is not a permission.`);
    }
    const permission = input.permission as BuiltinPermission;
    return retryingConflicts(() =>
      this.#locks.run(`user:${username}`, async () => {
        const repeated = grantedRole === undefined ? await this.#repeats.tryGrant(username, input, target, permission) : undefined;
        return (
          repeated ??
          this.#sessions.maintenance(async (m) => {
            const connector = await this.#connector(m);
            let role: string;
            let own: OwnGrants = [];
            if (grantedRole !== undefined) {
              await this.#steps.checkGrantableRole(m, connector, grantedRole, username);
              role = grantedRole;
            } else {
              ({ group: role, own } = await this.#steps.prepareGroupRole(m, connector, permission, target, username));
              await this.#repeats.record(m, connector, target, permission, role, own);
            }
            const user = await this.#steps.ensureUser(m, connector, username, input, role);
            // CREATE goes on the person's own user, never on the shared group (see splitPlan).
            for (const { database, statements } of own) await this.#sessions.on(m, database, (s) => s.batch(statements(username)));
            if (input.auditStatements !== true) return { roles: [role], userCreated: user.created };
            const statementLogging = await this.#steps.statementLogging.settle(m, username, user.statementLogging);
            return { roles: [role], userCreated: user.created, statementLogging };
          })
        );
      }),
    );
  }

  async revoke(input: RevokeInput): Promise<RevokeResult> {
    const username = validateIdentifier(input.username, 'user');
    const keep = new Set(input.keepRoles);
    const toRemove = [...new Set(input.roles)].filter((r) => !keep.has(r));
    for (const r of toRemove) validateIdentifier(r, 'role');
    if (input.validUntil) sql.timestampLiteral(input.validUntil);
    return this.#locks.run(`user:${username}`, () =>
      this.#sessions.maintenance(async (m) => {
        const [user] = await m.rows<RoleRow>(sql.rolesByName([username]));
        if (!user) return { removedRoles: [], terminatedSessions: 0, leftovers: [] };
        this.#steps.assertManagedUser(user);
        // The connector is read only when something was left behind: most revocations find nothing.
        const connector = lazy(() => this.#connector(m));
        const before = await this.#memberships(m, username);
        const failures: string[] = [];
        // Best effort: one failed statement does not stop the others; the check below decides.
        const attempt = async (what: string, work: () => Promise<unknown>) => {
          try {
            await work();
          } catch (err) {
            failures.push(`${what}: ${describeError(err)}`);
          }
        };
        for (const role of toRemove.filter((r) => before.roles.includes(r))) {
          await attempt(`remove ${role}`, () => m.batch([sql.revokeRole(role, username)]));
        }
        // VALID UNTIL does not stop IAM token logins; with nothing left, rds_iam goes as well as
        // LOGIN, so a token minted later is refused twice over.
        if (input.validUntil === null && before.roles.includes(sql.RDS_IAM_ROLE)) {
          await attempt(`remove ${sql.RDS_IAM_ROLE}`, () => m.batch([sql.revokeRole(sql.RDS_IAM_ROLE, username)]));
        }
        await attempt(input.validUntil ? 'set the expiry' : 'disable login', () =>
          m.batch([input.validUntil ? sql.setValidUntil(username, input.validUntil) : sql.disableLogin(username)]),
        );
        // Open sessions are ended whenever a role goes, even when other grants remain. Up to
        // PostgreSQL 15 a session that ran SET ROLE into the removed group keeps acting as it
        // after the REVOKE. From 16 memberships are inherit-only and every statement sees the
        // REVOKE at once, but a cursor (WITH HOLD) or portal opened before it goes on returning
        // rows from tables the person may no longer read. Ending the sessions closes both.
        let terminatedSessions = 0;
        if (toRemove.length > 0 || input.validUntil === null) {
          await attempt('terminate sessions', async () => {
            const [row] = await m.rows<{ terminated: number }>(sql.terminateSessions(username));
            terminatedSessions = row?.terminated ?? 0;
          });
        }
        let sweep: SweepResult | undefined;
        await attempt('remove what the person left behind', async () => {
          const kept = await this.#sweeper.keptScopes(m, [...keep]);
          sweep = await this.#sweeper.sweep(
            m,
            connector,
            [{ username, kept, everything: input.validUntil === null }],
            before.roles.filter(isGroupRole),
            false,
          );
          failures.push(...sweep.failures);
        });
        const after = await this.#memberships(m, username);
        const left = toRemove.filter((r) => after.roles.includes(r));
        const loginLeft = input.validUntil === null && after.canLogin;
        const leftovers = sweep
          ? [
              ...sweep.remaining.map((l) => l.object),
              ...sweep.unreachable.map((d) => `what it holds in ${d}, where the connector cannot connect`),
            ]
          : ['what it left behind (not checked)'];
        if (left.length > 0 || loginLeft || leftovers.length > 0) {
          const what = [...left.map((r) => `membership of ${r}`), ...(loginLeft ? ['login'] : []), ...leftovers].join(', ');
          throw new TargetUnavailableError(
            `Sesame could not take away ${what} from ${username} on ${this.integration}: ${failures.join('; ') || 'PostgreSQL kept it'}. It will try again.`,
          );
        }
        if (failures.length > 0) {
          this.#options.logger?.warn({ integration: this.integration, failures }, 'revoke finished after failures');
        }
        return { removedRoles: toRemove, terminatedSessions, leftovers: sweep?.removed ?? [] };
      }),
    );
  }

  async removeLeftovers(input: { username: string; keepRoles: readonly string[]; everything: boolean }): Promise<LeftoverRemoval[]> {
    const username = validateIdentifier(input.username, 'user');
    return this.#locks.run(`user:${username}`, () =>
      this.#sessions.maintenance(async (m) => {
        const [user] = await m.rows<RoleRow>(sql.rolesByName([username]));
        if (!user) return [];
        this.#steps.assertManagedUser(user);
        const connector = lazy(() => this.#connector(m));
        const kept = await this.#sweeper.keptScopes(m, input.keepRoles);
        const groups = (await this.#memberships(m, username)).roles.filter(isGroupRole);
        const sweep = await this.#sweeper.sweep(m, connector, [{ username, kept, everything: input.everything }], groups, false);
        this.#sweeper.assertSwept(sweep, username);
        return sweep.removed;
      }),
    );
  }

  async secureSharedRoles(): Promise<LeftoverRemoval[]> {
    return this.#sessions.maintenance(async (m) => {
      const connector = lazy(() => this.#connector(m));
      const groups = (await m.rows<{ name: string }>(sql.sesameGroupRoles())).map((r) => r.name);
      if (groups.length === 0) return [];
      const sweep = await this.#sweeper.sweep(m, connector, [], groups, true);
      this.#sweeper.assertSwept(sweep, 'the shared group roles');
      return sweep.removed;
    });
  }

  async setPassword(username: string, password: string): Promise<void> {
    validateIdentifier(username, 'user');
    const alreadyRedacted = redact(password) !== password;
    registerSecret(password);
    let verifier: string | undefined;
    try {
      verifier = scramSha256Verifier(password);
      registerSecret(verifier);
      const statement = sql.setPasswordVerifier(username, verifier);
      await this.#locks.run(`user:${username}`, () =>
        this.#sessions.maintenance(async (m) => {
          const [user] = await m.rows<RoleRow>(sql.rolesByName([username]));
          if (!user) throw new NotFoundError(`There is no database user ${username} on ${this.integration}.`);
          this.#steps.assertManagedUser(user);
          await m.batch([statement]);
        }),
      );
    } finally {
      forgetSecret(verifier);
      if (!alreadyRedacted) forgetSecret(password);
    }
  }

  async listManagedUsers(): Promise<ManagedUserState[]> {
    return this.#sessions.maintenance(async (m) => {
      const rows = await m.rows<{
        name: string;
        can_login: boolean;
        valid_until: Date | number | null;
        roles: string[];
        may_have_leftovers: boolean;
      }>(sql.managedUsers());
      return rows.map((r) => ({
        username: r.name,
        canLogin: r.can_login,
        validUntil: toDate(r.valid_until),
        roles: r.roles,
        groupRoles: r.roles.filter(isGroupRole),
        mayHaveLeftovers: r.may_have_leftovers,
      }));
    });
  }

  async dropUser(username: string): Promise<DropUserResult> {
    validateIdentifier(username, 'user');
    return this.#locks.run(`user:${username}`, () =>
      this.#sessions.maintenance(async (m) => {
        return this.#sweeper.dropUser(m, await this.#connector(m), username);
      }),
    );
  }

  async listDatabases(options: CatalogQuery = {}): Promise<string[]> {
    return this.#sessions.maintenance((m) => searchCatalog((page) => m.rows<{ name: string }>(sql.catalogDatabases(page)), options));
  }

  async listSchemas(database: string, options: CatalogQuery = {}): Promise<string[]> {
    validateIdentifier(database, 'database');
    return this.#sessions.inDatabase(database, (s) => searchCatalog((page) => s.rows<{ name: string }>(sql.catalogSchemas(page)), options));
  }

  async listTables(database: string, schema: string, options: CatalogQuery = {}): Promise<string[]> {
    validateIdentifier(database, 'database');
    validateIdentifier(schema, 'schema');
    return this.#sessions.inDatabase(database, (s) =>
      searchCatalog((page) => s.rows<{ name: string }>(sql.catalogTables(schema, page)), options),
    );
  }

  async check(): Promise<CheckReport> {
    const report: CheckReport = { integration: this.integration, findings: [...tlsFindings(this.#config)] };
    const findings = report.findings;
    try {
      await this.#sessions.maintenance(async (m) => {
        const c = await this.#connector(m);
        report.serverVersion = c.server_version;
        findings.push({
          level: 'ok',
          message: `Connected to PostgreSQL ${c.server_version} as ${c.connector} (${this.#sessions.describeMaintenanceDatabase(m)}).`,
        });
        findings.push(...connectorAttributeFindings(c));
        if (this.#config.userAuth === 'iam') findings.push(IAM_EXPIRY_FINDING);
        findings.push(...(await ownerFindings(m, c, (database, work) => this.#sessions.on(m, database, work))));
        findings.push(...(await grantableRoleFindings(m, c, this.#config)));
        if (this.#config.audit) {
          const logsReadBySesame = this.#config.type === 'aws-rds-postgresql';
          findings.push(...(await statementLoggingFindings(m, c, { onRds: c.on_rds || logsReadBySesame, logsReadBySesame })));
        }
      });
    } catch (err) {
      findings.push({
        level: 'error',
        message: isSesameError(err) ? err.message : `The check failed: ${describeError(err)}`,
        ...(err instanceof ConnectorSetupError ? { fixSql: [...err.sql] } : {}),
      });
    }
    return report;
  }

  async close(): Promise<void> {
    await this.#sessions.close();
  }

  // ── Helpers ─────────────────────────────────────────────────────────────────────────────────

  async #memberships(m: Session, username: string): Promise<{ canLogin: boolean; roles: string[] }> {
    const [row] = await m.rows<{ can_login: boolean; roles: string[] }>(sql.userMemberships(username));
    return { canLogin: row?.can_login ?? false, roles: row?.roles ?? [] };
  }

  async #connector(m: Session): Promise<ConnectorRow> {
    const [row] = await m.rows<ConnectorRow>(sql.connectorInfo());
    if (!row) throw new TargetUnavailableError(`The connector of ${this.integration} cannot see its own role.`);
    return row;
  }

  async #endpoint(): Promise<{ host: string; port: number }> {
    // RDS's own answer, where there is one, already applies the config's host and port overrides
    // and fills in RDS's port when the config gives only a host.
    if (this.#options.endpoint) return this.#options.endpoint();
    const config = this.#config;
    if (config.host) return { host: config.host, port: config.port ?? 5432 };
    throw new TargetUnavailableError(`The endpoint of ${this.integration} is not known yet (no host in the config and none found in RDS).`);
  }

  async #target(): Promise<ConnectionTarget> {
    const { host, port } = await this.#endpoint();
    const config = this.#config;
    return {
      integration: this.integration,
      host,
      port,
      user: config.username,
      sslMode: effectiveSslMode(config),
      sslRootCert: config.sslRootCert,
      rdsCaBundle: config.type === 'aws-rds-postgresql',
    };
  }
}

/** pg reads `infinity` as a number; a role valid forever has no expiry, one valid until `-infinity` is expired. */
function toDate(value: Date | number | null): Date | null {
  if (value === null || value === Infinity) return null;
  if (value === -Infinity) return new Date(0);
  return value instanceof Date ? value : new Date(value);
}
