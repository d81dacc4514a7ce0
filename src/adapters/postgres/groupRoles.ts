import { createHash } from 'node:crypto';
import type { BuiltinPermission } from '../../domain/permission.ts';
import type { Target } from '../../domain/target.ts';
import * as sql from './statements.ts';

/*
 * The names and marks of the roles Sesame makes besides people's users: one group role per
 * (physical scope, permission), and the heir of what removed users owned.
 */

const PERMISSION_ABBREVIATIONS: Record<BuiltinPermission, string> = { readonly: 'ro', readwrite: 'rw', admin: 'admin' };

/**
 * The group role of a permission on a physical scope: `sesame_<ro|rw|admin>_<hash>`. The name
 * depends on the database, schema and table only (not the integration), so every integration
 * pointing at one server shares it.
 */
export function groupRoleName(permission: BuiltinPermission, target: Target): string {
  const hash = createHash('sha256').update(groupScopeKey(permission, target)).digest('hex').slice(0, 12);
  return `sesame_${PERMISSION_ABBREVIATIONS[permission]}_${hash}`;
}

/** The comment that marks a group role as Sesame's, naming what it holds. */
export function groupRoleComment(permission: BuiltinPermission, target: Target): string {
  return `${sql.GROUP_ROLE_MARK}${groupScopeKey(permission, target)}`;
}

function groupScopeKey(permission: BuiltinPermission, target: Target): string {
  const { database, schema, table } = target;
  return JSON.stringify({ permission, database, schema, table });
}

/**
 * The role that inherits what removed users (and group roles) owned. It cannot log in, holds no
 * privilege and is a member of nothing, so the objects it owns run with no one's rights.
 */
export const HEIR_ROLE = 'sesame_orphan_owner';
export const HEIR_MARK = `${sql.SESAME_MARK} owns what removed users left; cannot log in, holds nothing`;

/** Sesame's group roles: `sesame_<ro|rw|admin>_<12 hex digits>`. */
export function isGroupRole(role: string): boolean {
  return /^sesame_(ro|rw|admin)_[0-9a-f]{12}$/.test(role);
}
