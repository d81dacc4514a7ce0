import type { Permission } from '../domain/permission.ts';
import type { Target } from '../domain/target.ts';

/** How a person connects, without any secret. */
export interface ConnectionInfo {
  host: string;
  port: number;
  database: string;
  /** libpq sslmode to put in the person's connection string. */
  sslMode: string;
  /** With `userAuth: iam` on RDS: what IAM database login needs to name the database user. */
  iam?: IamResource;
}

/** The RDS resource IAM database login is granted on. */
export interface IamResource {
  region: string;
  accountId: string;
  /** `DbiResourceId`, or `DbClusterResourceId` for Aurora. */
  resourceId: string;
  partition: string;
  /** The endpoint RDS checks tokens against, when people connect through another host. */
  tokenHost?: string;
  tokenPort?: number;
}

export interface GrantInput {
  username: string;
  /** Shown in the role's comment: who the user belongs to. */
  ownerLabel: string;
  /**
   * The person's Slack ID, recorded in the role's mark: a user whose mark names another person
   * is never given to this one.
   */
  ownerId?: string;
  target: Target;
  permission: Permission;
  /** The user's `VALID UNTIL`: the latest expiry of all its live grants. */
  validUntil: Date;
  /**
   * The integration is audited (`audit: true`): the user gets a session default that has the
   * server log its statements, where the connector may set it. A grant never fails for want of it.
   */
  auditStatements?: boolean;
}

/**
 * How a managed user's statements are logged: `pgaudit.log = 'all'` where pgaudit is loaded,
 * else `log_statement = 'all'`, set on the user; `none` when the connector may set neither.
 */
export type StatementLogging = 'pgaudit' | 'log_statement' | 'none';

export interface GrantResult {
  /** Roles the user is now a member of because of this grant (group roles or grantable roles). */
  roles: string[];
  /** True when the database user was created by this call. */
  userCreated: boolean;
  /** With `auditStatements`: how the user's statements are logged now. */
  statementLogging?: StatementLogging;
}

export interface RevokeInput {
  username: string;
  /** The roles the ending grant gave. */
  roles: readonly string[];
  /** Roles that other live grants of the same person still need: never removed. */
  keepRoles: readonly string[];
  /** The new `VALID UNTIL`, or `null` when nothing is left: login is then disabled. */
  validUntil: Date | null;
}

export interface RevokeResult {
  removedRoles: string[];
  terminatedSessions: number;
  /** What the person left behind that no live grant explains, found and removed. */
  leftovers: LeftoverRemoval[];
}

/**
 * One thing a person (or a shared group role) left behind that Sesame removed: a privilege held
 * directly, a privilege handed out on the person's objects, a trigger planted on someone else's
 * table, default privileges, a role made member of the person's user, or objects a group role
 * came to own. Recorded in the audit trail and shown to admins.
 */
export interface LeftoverRemoval {
  /** The database it was in; null for the server's shared catalog (roles, databases). */
  database: string | null;
  /** The person's user, or the group role, it belonged to. */
  role: string;
  what:
    | 'direct privilege'
    | 'privilege handed out'
    | 'planted trigger'
    | 'default privileges'
    | 'member of the user'
    | 'membership that allows SET ROLE'
    | 'privilege of a shared role'
    | 'owned by a shared role';
  object: string;
  grantee?: string;
  privileges?: string[];
  /** The object's definition (a routine's or a trigger's), as PostgreSQL prints it. */
  definition?: string;
  /** The statements that removed it. */
  sql: string[];
}

/** What dropping a user did: what it owned was kept (handed to the heir role) or removed. */
export interface DropUserResult {
  dropped: boolean;
  /** Objects the user owned, now owned by the heir role, by database. */
  kept: { database: string; object: string }[];
  /** Routines made SECURITY INVOKER before they were handed on. */
  neutralised: { database: string; object: string }[];
  leftovers: LeftoverRemoval[];
}

/** What the database says about one user Sesame manages. */
export interface ManagedUserState {
  username: string;
  canLogin: boolean;
  validUntil: Date | null;
  /** Roles the user is a member of. */
  roles: string[];
  /** Those of `roles` that are Sesame's own group roles (the engine knows their names). */
  groupRoles: string[];
  /**
   * The user owns something, is named in a privilege, or has members, somewhere on the server:
   * only then can it have left anything behind for {@link TargetDatabase.removeLeftovers}.
   */
  mayHaveLeftovers: boolean;
}

/** One thing the connector lacks, and the SQL an admin runs to fix it. */
export interface CheckFinding {
  level: 'ok' | 'warn' | 'error';
  message: string;
  /** Statements to run as the RDS master user (or another role that may grant them). */
  fixSql?: string[];
}

export interface CheckReport {
  integration: string;
  serverVersion?: string;
  findings: CheckFinding[];
}

/**
 * One integration's PostgreSQL server, as the access services need it. Every method is
 * idempotent: calling it again after a crash half way finishes the job.
 */
export interface TargetDatabase {
  readonly integration: string;
  /** The server identity that managed users are keyed by (RDS resource ID, else host:port). */
  serverKey(): Promise<string>;
  connectionInfo(): Promise<ConnectionInfo>;
  /**
   * Creates the user if needed (marked as Sesame's; a same-named role Sesame did not create is a
   * ConflictError), enables login with `VALID UNTIL`, and makes it a member of the role that
   * carries `permission` on `target`.
   */
  grant(input: GrantInput): Promise<GrantResult>;
  /** Removes `roles` but `keepRoles`, sets or disables login, terminates the user's sessions. */
  revoke(input: RevokeInput): Promise<RevokeResult>;
  /** Sets a new password on a managed user (never stored by Sesame). */
  setPassword(username: string, password: string): Promise<void>;
  /** Every user on the server that carries Sesame's mark. */
  listManagedUsers(): Promise<ManagedUserState[]>;
  /**
   * Drops the user in every database: removes what it left behind, makes its SECURITY DEFINER
   * routines SECURITY INVOKER, hands what it owns to a heir role that cannot log in and holds
   * no privilege, drops the rest, then the role.
   */
  dropUser(username: string): Promise<DropUserResult>;
  /**
   * Finds and removes what the user left behind that its live grants (`keepRoles`) do not
   * explain; with `everything`, also the privileges it handed out on what it owns.
   */
  removeLeftovers(input: { username: string; keepRoles: readonly string[]; everything: boolean }): Promise<LeftoverRemoval[]>;
  /**
   * Puts Sesame's shared group roles back in shape: no CREATE, no objects, no default
   * privileges, and (from PostgreSQL 16) no membership that allows SET ROLE.
   */
  secureSharedRoles(): Promise<LeftoverRemoval[]>;
  /**
   * The catalog, for the request modal's pickers: databases that accept connections (not
   * templates, not rdsadmin), schemas of a database (not pg_catalog, information_schema, pg_toast
   * or temporary ones), tables (and views) of a schema. `search` keeps names containing it
   * (case-insensitive); `limit` caps the list (Slack shows at most 100 options).
   */
  listDatabases(options?: CatalogQuery): Promise<string[]>;
  listSchemas(database: string, options?: CatalogQuery): Promise<string[]>;
  listTables(database: string, schema: string, options?: CatalogQuery): Promise<string[]>;
  /** What the connector can and cannot do here, with the SQL that fixes each gap. */
  check(): Promise<CheckReport>;
  close(): Promise<void>;
}

export interface CatalogQuery {
  search?: string;
  limit?: number;
}

/** Finds the TargetDatabase of an integration by name. */
export interface TargetDatabases {
  get(integration: string): TargetDatabase;
  names(): string[];
  closeAll(): Promise<void>;
}
