/*
 * What the connector is and may do, as PostgreSQL's version decides it. PostgreSQL 16 changed
 * two things Sesame depends on, and this file is the one place that says so:
 * - up to 15 a CREATEROLE role may grant membership of any non-superuser role (so the
 *   connector takes the owners' memberships it needs itself); from 16 only of roles it has
 *   ADMIN on, which an admin must grant;
 * - from 16 a membership has options: Sesame gives inherit-only ones (no SET ROLE).
 */

const POSTGRES_16 = 160000;

/** Up to 15, CREATEROLE may grant membership of any non-superuser role. */
export function createRoleGrantsAnyRole(serverVersionNum: number): boolean {
  return serverVersionNum < POSTGRES_16;
}

/** From 16, a membership can be inherit-only (WITH INHERIT TRUE, SET FALSE). */
export function hasMembershipOptions(serverVersionNum: number): boolean {
  return serverVersionNum >= POSTGRES_16;
}

/** Whether the connector may give itself the privileges of a non-superuser owner role. */
export function mayTakeOwner(c: ConnectorRow, connectorIsAdminOfOwner: boolean): boolean {
  return c.is_superuser || connectorIsAdminOfOwner || (createRoleGrantsAnyRole(c.server_version_num) && c.can_create_roles);
}

export interface ConnectorRow {
  connector: string;
  server_version: string;
  server_version_num: number;
  is_superuser: boolean;
  can_create_roles: boolean;
  can_signal_backends: boolean;
  on_rds: boolean;
}

export interface RoleRow {
  name: string;
  is_superuser: boolean;
  can_login: boolean;
  valid_until: Date | number | null;
  comment: string | null;
  connector_has_privileges: boolean;
  connector_is_admin: boolean;
}

export interface DatabaseRow {
  name: string;
  owner: string;
  owner_is_superuser: boolean;
  connector_has_owner: boolean;
  connector_is_admin_of_owner: boolean;
  connector_can_connect: boolean;
  missing: string[];
}

export interface UngrantableRow {
  kind: 'schema' | 'table' | 'sequence' | 'routine';
  schema_name: string;
  object_name: string | null;
  owner: string;
  owner_is_superuser: boolean;
  connector_is_admin_of_owner: boolean;
  missing: string[];
}

export function mayGrantRole(c: ConnectorRow, role: RoleRow): boolean {
  if (c.is_superuser) return true;
  if (role.is_superuser) return false;
  return createRoleGrantsAnyRole(c.server_version_num) ? c.can_create_roles || role.connector_is_admin : role.connector_is_admin;
}

/**
 * Why the connector cannot take a membership (or grant a role) itself, when an admin must step
 * in: up to 15 only because it lacks CREATEROLE (which, once given, lets it do so itself); from
 * 16 because PostgreSQL lets only a role's admin grant it.
 */
export function whyNotSelfGranted(c: ConnectorRow): string {
  if (lacksOnlyCreateRole(c)) {
    return `the connector ${c.connector} lacks CREATEROLE`;
  }
  return `PostgreSQL ${majorVersion(c)} lets only an admin of a role grant it, even to a CREATEROLE connector`;
}

/** Whether CREATEROLE is all the connector lacks to take memberships itself (up to 15). */
export function lacksOnlyCreateRole(c: ConnectorRow): boolean {
  return createRoleGrantsAnyRole(c.server_version_num) && !c.can_create_roles && !c.is_superuser;
}

export function majorVersion(c: ConnectorRow): number {
  return Math.floor(c.server_version_num / 10000);
}
