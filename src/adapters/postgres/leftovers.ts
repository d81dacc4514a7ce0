/*
 * What a person leaves behind, found and removed.
 *
 * A grant gives a person's user membership of shared group roles (and, for admin, CREATE on
 * its own user). While it lasts the person can create objects, grant privileges on them, plant
 * triggers on tables they may TRIGGER, set default privileges, and so on. None of that may
 * outlive the grant or spread to anyone else (PRODUCT.md §5). So at every revocation, at every
 * reconciliation and before a user is dropped, Sesame looks (through pg_shdepend, in every
 * database that holds something of the user's) for:
 * - privileges held directly by the user that no live grant explains (only CREATE, from an
 *   admin grant, ever is);
 * - triggers on other roles' tables that run the user's functions: they would run with the
 *   rights of whoever writes to the table (the table's owner, an application);
 * - default privileges that name the user, or that the user or a group role set;
 * - roles made members of the user;
 * - and, once the person has no grant left, privileges handed out on what the user owns
 *   (EXECUTE that PUBLIC holds on a new function by default included).
 * Group roles must own nothing: whatever one came to own (an old grant model, or a server
 * where PUBLIC may create in `public`) is neutralised and handed to the heir, a role that
 * cannot log in and holds nothing.
 *
 * Peers stop short of this. Vault's PostgreSQL plugin revokes and drops the role, and the drop
 * fails as soon as the user owns an object; Teleport hands what a user owned to an "object
 * inheritor" role as it is, SECURITY DEFINER functions and grants to PUBLIC included. Sesame
 * removes what runs with anyone else's rights first, records each removal with the object's
 * definition, and only then hands the objects on.
 */
import { explainsDirectPrivilege, type GrantScopeKey } from '../../domain/privileges.ts';
import type { LeftoverRemoval } from '../../ports/TargetDatabase.ts';
import * as L from './leftoverStatements.ts';
import type { ObjectRef } from './leftoverStatements.ts';
import type { Session } from './session.ts';
import type { Statement } from './statements.ts';

/** Whose leftovers to look for, and what their live grants still explain. */
export interface LeftoverSubject {
  username: string;
  /** The scopes of the person's live grants (from their group roles). */
  kept: GrantScopeKey[];
  /** True once no grant is left: then privileges they handed out on their own objects go too. */
  everything: boolean;
}

export interface FindOptions {
  subjects: readonly LeftoverSubject[];
  /** Sesame's group roles to look at: what they own, their default privileges. */
  groups: readonly string[];
  /** Also CREATE held by the group roles and (16+) memberships of them that allow SET ROLE. */
  groupPrivileges: boolean;
  serverVersionNum: number;
  /** The role that inherits what group roles own. */
  heir: string;
}

/** One thing to remove, with the statements that remove it and the roles whose rights they need. */
export interface Leftover extends LeftoverRemoval {
  fix: Statement[];
  /** Roles the connector needs the privileges of to run `fix` (the owner it acts as). */
  actsAs: string[];
}

/** A user's object, as cleanup lists what it kept and neutralises what runs as its owner. */
export interface OwnedObject {
  database: string;
  role: string;
  type: string;
  schema: string | null;
  identity: string;
  securityDefiner: boolean;
  routine: ObjectRef | null;
}

export interface FindResult {
  leftovers: Leftover[];
  owned: OwnedObject[];
  /** Databases that hold something of the subjects' but refuse the connector. */
  unreachable: string[];
}

interface SharedRow {
  databases: { name: string; reachable: boolean }[];
  privileges: (ObjectRef & { role: string; privileges: string[]; of_group: boolean })[];
  members: { role: string; member: string }[];
  set_memberships: { role: string; member: string }[];
}

interface DatabaseRow {
  direct: (ObjectRef & { role: string; of_user: boolean; privileges: string[] })[];
  handed_out: (ObjectRef & { role: string; of_user: boolean; grantee: string; privileges: string[]; definition: string | null })[];
  owned: {
    role: string;
    of_user: boolean;
    type: string;
    schema_name: string | null;
    identity: string;
    routine_name: string | null;
    routine_args: string | null;
    security_definer: boolean;
  }[];
  triggers: { role: string; of_user: boolean; schema_name: string; table_name: string; trigger_name: string; definition: string }[];
  defaults: {
    owner: string;
    role: string;
    of_user: boolean;
    schema_name: string | null;
    objtype: string;
    grantee: string;
    privileges: string[];
  }[];
}

/**
 * Finds the subjects' leftovers in every database that holds something of theirs. `on` runs
 * work in a database (on the held session when it is that one).
 */
export async function findLeftovers(
  m: Session,
  on: <T>(database: string, work: (s: Session) => Promise<T>) => Promise<T>,
  options: FindOptions,
): Promise<FindResult> {
  const users = options.subjects.map((s) => s.username);
  const subjects = new Map(options.subjects.map((s) => [s.username, s] as const));
  const [shared] = await m.rows<SharedRow>(L.sharedLeftovers(users, options.groups, options.groupPrivileges, options.serverVersionNum));
  const leftovers: Leftover[] = [];
  const owned: OwnedObject[] = [];
  if (!shared) return { leftovers, owned, unreachable: [] };

  for (const p of shared.privileges) pushDirect(leftovers, subjects, null, { ...p, of_user: !p.of_group });
  for (const mm of shared.members) {
    leftovers.push({
      database: null,
      role: mm.role,
      what: 'member of the user',
      object: `role ${mm.member}`,
      grantee: mm.member,
      fix: [L.revokeMembership(mm.role, mm.member)],
      actsAs: [],
      sql: [],
    });
  }
  for (const mm of shared.set_memberships) {
    leftovers.push({
      database: null,
      role: mm.role,
      what: 'membership that allows SET ROLE',
      object: `membership of ${mm.member} in ${mm.role}`,
      grantee: mm.member,
      fix: [L.membershipWithoutSet(mm.role, mm.member)],
      actsAs: [],
      sql: [],
    });
  }

  const databases = new Set(shared.databases.filter((d) => d.reachable).map((d) => d.name));
  // Group roles hold CREATE only in an old grant model; with groupPrivileges they are looked for
  // in the maintenance database too, where their schema privileges live.
  if (options.groupPrivileges && options.groups.length > 0) databases.add(m.database);
  for (const database of databases) {
    const [row] = await on(database, (s) => s.rows<DatabaseRow>(L.databaseLeftovers(users, options.groups, options.groupPrivileges)));
    if (row) collectDatabase(database, row, subjects, options.heir, leftovers, owned);
  }
  for (const l of leftovers) l.sql = l.fix.map((f) => f.shownText ?? f.text);
  return { leftovers, owned, unreachable: shared.databases.filter((d) => !d.reachable).map((d) => d.name) };
}

function collectDatabase(
  database: string,
  row: DatabaseRow,
  subjects: Map<string, LeftoverSubject>,
  heir: string,
  leftovers: Leftover[],
  owned: OwnedObject[],
): void {
  const everything = (role: string, ofUser: boolean) => !ofUser || (subjects.get(role)?.everything ?? false);
  for (const d of row.direct) pushDirect(leftovers, subjects, database, d);
  for (const h of row.handed_out) {
    if (!everything(h.role, h.of_user)) continue;
    leftovers.push({
      database,
      role: h.role,
      what: 'privilege handed out',
      object: L.describeObjectRef(h),
      grantee: h.grantee,
      privileges: h.privileges,
      ...(h.definition ? { definition: h.definition } : {}),
      fix: [L.revokeFrom(h, h.grantee)],
      actsAs: [h.role],
      sql: [],
    });
  }
  for (const t of row.triggers) {
    leftovers.push({
      database,
      role: t.role,
      what: 'planted trigger',
      object: `trigger ${t.trigger_name} on ${t.schema_name}.${t.table_name}`,
      definition: t.definition,
      fix: [L.dropTrigger(t.schema_name, t.table_name, t.trigger_name)],
      actsAs: [],
      sql: [],
    });
  }
  for (const d of row.defaults) {
    // A person's own defaults matter once they can no longer create; others' that name the
    // person, and any a group role holds, are never Sesame's doing.
    if (d.of_user && d.owner === d.role && !everything(d.role, d.of_user)) continue;
    leftovers.push({
      database,
      role: d.role,
      what: 'default privileges',
      object: `default privileges of ${d.owner}${d.schema_name !== null ? ` in schema ${d.schema_name}` : ''} on ${d.objtype}`,
      grantee: d.grantee,
      privileges: d.privileges,
      fix: [L.revokeDefaultPrivileges(d.owner, d.schema_name, d.objtype, d.grantee)],
      actsAs: d.of_user || d.owner !== d.role ? [] : [d.owner],
      sql: [],
    });
  }
  collectOwned(database, row.owned, heir, leftovers, owned);
}

/**
 * What the subjects own: a user's objects are listed (clean-up keeps them and says where); a
 * group role's are a leftover, neutralised and handed to the heir.
 */
function collectOwned(database: string, rows: DatabaseRow['owned'], heir: string, leftovers: Leftover[], owned: OwnedObject[]): void {
  const groupObjects = new Map<string, OwnedObject[]>();
  for (const o of rows) {
    const object: OwnedObject = {
      database,
      role: o.role,
      type: o.type,
      schema: o.schema_name,
      identity: o.identity,
      securityDefiner: o.security_definer,
      routine:
        o.routine_name !== null && o.schema_name !== null
          ? { object_type: 'routine', schema_name: o.schema_name, object_name: o.routine_name, detail: o.routine_args }
          : null,
    };
    if (o.of_user) owned.push(object);
    else groupObjects.set(o.role, [...(groupObjects.get(o.role) ?? []), object]);
  }
  for (const [group, objects] of groupObjects) {
    const neutralise = objects.filter((o) => o.securityDefiner && o.routine).map((o) => L.makeSecurityInvoker(o.routine!));
    leftovers.push({
      database,
      role: group,
      what: 'owned by a shared role',
      object: objects.map((o) => `${o.type} ${o.identity}`).join(', '),
      fix: [...neutralise, ...reassignStatements(group, heir, database, objects)],
      actsAs: [group, heir],
      sql: [],
    });
  }
}

/**
 * Hands what `role` owns in `database` to `heir`: CREATE for the heir, for the transaction only,
 * on the schemas the objects live in (those the role owns itself move with it).
 */
export function reassignStatements(role: string, heir: string, database: string, objects: readonly OwnedObject[]): Statement[] {
  const ownSchemas = new Set(objects.filter((o) => o.type === 'schema').map((o) => o.identity.replace(/^"|"$/g, '')));
  const schemas = [
    ...new Set(objects.filter((o) => o.type !== 'schema' && o.schema !== null && !ownSchemas.has(o.schema)).map((o) => o.schema!)),
  ];
  return L.reassignOwnedTo(role, heir, database, schemas, ownSchemas.size > 0);
}

/**
 * A privilege held directly: a user's that no live grant explains, or CREATE held by a group
 * role (which the grant model never gives it).
 */
function pushDirect(
  leftovers: Leftover[],
  subjects: Map<string, LeftoverSubject>,
  database: string | null,
  d: ObjectRef & { role: string; of_user: boolean; privileges: string[] },
): void {
  const unexplained = d.of_user ? unexplainedPrivileges(subjects.get(d.role), database, d) : ['CREATE'];
  if (unexplained.length === 0) return;
  leftovers.push({
    database,
    role: d.role,
    what: d.of_user ? 'direct privilege' : 'privilege of a shared role',
    object: L.describeObjectRef(d),
    privileges: unexplained,
    fix: [L.revokeFrom(d, d.role, unexplained)],
    actsAs: [],
    sql: [],
  });
}

/** The privileges found directly on a user that none of its live grants explains. */
function unexplainedPrivileges(
  subject: LeftoverSubject | undefined,
  database: string | null,
  found: ObjectRef & { privileges: string[] },
): string[] {
  const kept = subject?.kept ?? [];
  return found.privileges.filter(
    (privilege) =>
      !kept.some((grant) =>
        explainsDirectPrivilege(grant, {
          objectType: found.object_type,
          database,
          schema: found.schema_name,
          objectName: found.object_name,
          privilege,
        }),
      ),
  );
}

/** The key a leftover is recognised by when the scan runs again. */
export function leftoverKey(l: Pick<LeftoverRemoval, 'database' | 'role' | 'what' | 'object' | 'grantee'>): string {
  return JSON.stringify([l.database, l.role, l.what, l.object, l.grantee ?? null]);
}

/** What the audit trail and the admins get: the removal without its statements' internals. */
export function asRemoval(l: Leftover): LeftoverRemoval {
  const { fix: _fix, actsAs: _actsAs, ...removal } = l;
  return removal;
}
