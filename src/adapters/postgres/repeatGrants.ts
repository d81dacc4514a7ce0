import type { IntegrationConfig } from '../../config/schema.ts';
import type { BuiltinPermission } from '../../domain/permission.ts';
import { privilegePlan, splitPlan } from '../../domain/privileges.ts';
import { targetScope, type Target } from '../../domain/target.ts';
import type { Logger } from '../../logger.ts';
import type { GrantInput, GrantResult } from '../../ports/TargetDatabase.ts';
import { isConnectionFailure, sqlState } from './connection.ts';
import type { ConnectorRow } from './connectorRules.ts';
import { objectScopeOf, type OwnGrants } from './grantSteps.ts';
import { groupRoleComment, groupRoleName } from './groupRoles.ts';
import type { ServerSessions } from './serverSessions.ts';
import type { Session } from './session.ts';
import { loggingStatements, type StatementLoggingSetter } from './statementLogging.ts';
import { readFingerprint, repeatGrantBlock, STALE_REPEAT_GRANT } from './scopeFingerprint.ts';
import * as sql from './statements.ts';

/*
 * Repeat grants: a person joining a group role whose scope has not changed since the engine last
 * granted the group everything in it. Such a grant needs what a DBA would type (`ALTER ROLE …
 * LOGIN VALID UNTIL …; GRANT group TO user`) and the checks that keep it safe, in one round
 * trip: a DO block (scopeFingerprint.ts) that checks the server version, the group's and the
 * user's marks and the scope's fingerprint, and changes nothing unless all hold. Anything else
 * (a new user, a new group, a changed scope, a restart that emptied the memory, an audited grant
 * whose way of logging is not known yet, an IAM integration, instance scope) takes the full grant,
 * which records the fingerprint again.
 *
 * What is skipped is only what would repeat work: reading the connector, the roles and the
 * owners, the advisory lock on the group, and re-granting the group's privileges. The person's
 * membership is given exactly as the full grant gives it (inherit-only from 16), CREATE of admin
 * still goes on the person's own user, and the fingerprint is kept only when the group was seen
 * holding the whole plan on every object it covers.
 */

interface Known {
  database: string;
  fingerprint: string;
  serverVersionNum: number;
  own: OwnGrants;
}

export class RepeatGrants {
  /** By group role: the scope's fingerprint when the group last got everything in it. */
  readonly #known = new Map<string, Known>();
  readonly #config: IntegrationConfig;
  readonly #sessions: Pick<ServerSessions, 'inDatabase'>;
  readonly #logging: StatementLoggingSetter;
  readonly #logger: Logger | undefined;

  constructor(config: IntegrationConfig, sessions: Pick<ServerSessions, 'inDatabase'>, logging: StatementLoggingSetter, logger?: Logger) {
    this.#config = config;
    this.#sessions = sessions;
    this.#logging = logging;
    this.#logger = logger;
  }

  /** Whether a grant may take the short way at all; the fingerprint decides the rest. */
  #eligible(target: Target): boolean {
    return target.database !== undefined && this.#config.userAuth !== 'iam';
  }

  /**
   * Grants in one round trip when the group and its scope are as the engine left them; returns
   * undefined (having changed nothing) when the full grant must run instead.
   */
  async tryGrant(username: string, input: GrantInput, target: Target, permission: BuiltinPermission): Promise<GrantResult | undefined> {
    if (!this.#eligible(target)) return undefined;
    const group = groupRoleName(permission, target);
    const known = this.#known.get(group);
    if (!known) return undefined;
    // An audited grant goes this way once the way of logging is known: its settings are sent too.
    const logging = input.auditStatements === true ? this.#logging.trusted() : undefined;
    if (input.auditStatements === true && logging === undefined) return undefined;
    const { shared } = splitPlan(privilegePlan(permission, targetScope(target)));
    const statements = [
      sql.enableLogin(username, input.validUntil),
      sql.grantMembership(group, username, known.serverVersionNum),
      ...known.own.flatMap((o) => o.statements(username)),
      ...(logging ? loggingStatements(logging, username) : []),
    ];
    const block = repeatGrantBlock(
      {
        serverVersionNum: known.serverVersionNum,
        group,
        groupComment: groupRoleComment(permission, target),
        username,
        ownerId: input.ownerId,
        managedUserMark: sql.MANAGED_USER_MARK,
        scope: objectScopeOf(permission, target),
        plan: shared,
        fingerprint: known.fingerprint,
      },
      statements,
    );
    try {
      await this.#sessions.inDatabase(known.database, (s) => s.batch([block]));
      return { roles: [group], userCreated: false, ...(logging ? { statementLogging: logging } : {}) };
    } catch (err) {
      if (isConnectionFailure(err)) throw err;
      this.#known.delete(group);
      if (sqlState(err) !== STALE_REPEAT_GRANT) {
        this.#logger?.debug({ integration: this.#config.name, group, err }, 'the repeat grant failed; the full grant runs instead');
      }
      return undefined;
    }
  }

  /**
   * After a full grant gave `group` its privileges: reads the scope's fingerprint and keeps it
   * when the group holds the whole plan on everything it covers (checked in the same snapshot).
   */
  async record(
    m: Session,
    connector: ConnectorRow,
    target: Target,
    permission: BuiltinPermission,
    group: string,
    own: OwnGrants,
  ): Promise<void> {
    const database = target.database;
    if (database === undefined || !this.#eligible(target)) return;
    // Own grants run in the target's database; only those made there or on a database qualify.
    if (own.some((o) => o.database !== database && o.database !== m.database)) return;
    const { shared } = splitPlan(privilegePlan(permission, targetScope(target)));
    const read = readFingerprint(objectScopeOf(permission, target), shared, group);
    const run = (s: Session) => s.rows<{ fingerprint: string; complete: boolean }>(read);
    const [row] = database === m.database ? await run(m) : await this.#sessions.inDatabase(database, run);
    if (row?.complete) {
      this.#known.set(group, { database, fingerprint: row.fingerprint, serverVersionNum: connector.server_version_num, own });
    } else {
      this.#known.delete(group);
    }
  }
}
