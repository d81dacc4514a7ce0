import { InputError } from './errors.ts';
import { validateIdentifier } from './identifiers.ts';

/** `readonly`, `readwrite`, `admin`, or `role:<name>` for an integration's grantable role. */
export type Permission = 'readonly' | 'readwrite' | 'admin' | `role:${string}`;

export const BUILTIN_PERMISSIONS = ['readonly', 'readwrite', 'admin'] as const;
export type BuiltinPermission = (typeof BUILTIN_PERMISSIONS)[number];

export const PERMISSION_USAGE = 'readonly, readwrite, admin or role:<name>';

export function parsePermission(text: string): Permission {
  const p = text.trim();
  if ((BUILTIN_PERMISSIONS as readonly string[]).includes(p)) return p as BuiltinPermission;
  if (p.startsWith('role:')) {
    const role = p.slice('role:'.length);
    validateIdentifier(role, 'role');
    return `role:${role}`;
  }
  throw new InputError(`"${p.slice(0, 40)}" is not a permission. Use ${PERMISSION_USAGE}.`, { field: 'permission' });
}

export function isBuiltinPermission(p: Permission): p is BuiltinPermission {
  return (BUILTIN_PERMISSIONS as readonly string[]).includes(p);
}

/** For `role:<name>`, the role's name; otherwise undefined. */
export function roleOf(p: Permission): string | undefined {
  return p.startsWith('role:') ? p.slice('role:'.length) : undefined;
}
