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
  target: Target;
  permission: Permission;
  /** The user's `VALID UNTIL`: the latest expiry of all its live grants. */
  validUntil: Date;
}

export interface GrantResult {
  /** Roles the user is now a member of because of this grant (group roles or grantable roles). */
  roles: string[];
  /** True when the database user was created by this call. */
  userCreated: boolean;
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
}

/** What the database says about one user Sesame manages. */
export interface ManagedUserState {
  username: string;
  canLogin: boolean;
  validUntil: Date | null;
  /** Roles the user is a member of. */
  roles: string[];
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
  /** Reassigns what the user owns to the connector, drops the rest in every database, drops the user. */
  dropUser(username: string): Promise<void>;
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
