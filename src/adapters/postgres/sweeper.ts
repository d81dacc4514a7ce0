import { ConflictError, TargetUnavailableError } from '../../domain/errors.ts';
import type { GrantScopeKey } from '../../domain/privileges.ts';
import { describeError, type Logger } from '../../logger.ts';
import type { DropUserResult, LeftoverRemoval } from '../../ports/TargetDatabase.ts';
import { sqlState } from './connection.ts';
import type { ConnectorRow, RoleRow } from './connectorRules.ts';
import type { GrantSteps } from './grantSteps.ts';
import { HEIR_MARK, HEIR_ROLE, isGroupRole } from './groupRoles.ts';
import {
  asRemoval,
  findLeftovers,
  leftoverKey,
  reassignStatements,
  type Leftover,
  type LeftoverSubject,
  type OwnedObject,
} from './leftovers.ts';
import { makeSecurityInvoker } from './leftoverStatements.ts';
import type { Session } from './session.ts';
import * as sql from './statements.ts';

/*
 * Removing what people leave behind on one integration's server: the search of leftovers.ts
 * run, acted on and checked again, and the drop of a user whose objects go to the heir. The
 * engine (PostgresTargetDatabase) calls it under the person's lock, in its maintenance session.
 */

export interface SweepResult {
  removed: LeftoverRemoval[];
  remaining: Leftover[];
  failures: string[];
  owned: OwnedObject[];
  unreachable: string[];
}

export interface LeftoverSweeperContext {
  integration: string;
  logger?: Logger;
  /** Makes and recognises Sesame's roles (the heir included). */
  steps: GrantSteps;
  /** Runs work in a database: on the held session when it is that one. */
  on: <T>(held: Session, database: string, work: (s: Session) => Promise<T>) => Promise<T>;
}

export class LeftoverSweeper {
  readonly integration: string;
  readonly #options: { logger?: Logger };
  readonly #steps: GrantSteps;
  readonly #ctx: LeftoverSweeperContext;

  constructor(ctx: LeftoverSweeperContext) {
    this.#ctx = ctx;
    this.integration = ctx.integration;
    this.#options = { logger: ctx.logger };
    this.#steps = ctx.steps;
  }

  #on<T>(held: Session, database: string, work: (s: Session) => Promise<T>): Promise<T> {
    return this.#ctx.on(held, database, work);
  }

  /**
   * Drops the user in every database: removes what it left behind, makes its SECURITY DEFINER
   * routines SECURITY INVOKER, hands what it owns to the heir, drops the rest, then the role.
   */
  async dropUser(m: Session, connector: ConnectorRow, username: string): Promise<DropUserResult> {
    const [user] = await m.rows<RoleRow>(sql.rolesByName([username]));
    if (!user) return { dropped: false, kept: [], neutralised: [], leftovers: [] };
    this.#steps.assertManagedUser(user);
    await m.rows(sql.terminateSessions(username));
    // First what runs with anyone else's rights or gives anyone access: privileges handed out
    // (EXECUTE for PUBLIC included), planted triggers, default privileges, members.
    const sweep = await this.sweep(m, async () => connector, [{ username, kept: [], everything: true }], [], false);
    this.assertSwept(sweep, username);
    // Then what it owns goes to the heir, never to the connector or any role with rights:
    // SECURITY DEFINER routines first become SECURITY INVOKER, so they run as whoever calls them.
    await this.actAs(m, connector, [username, HEIR_ROLE]);
    const neutralised: DropUserResult['neutralised'] = [];
    const byDatabase = new Map<string, OwnedObject[]>();
    for (const o of sweep.owned) byDatabase.set(o.database, [...(byDatabase.get(o.database) ?? []), o]);
    for (const [database, objects] of byDatabase) {
      const invoker = objects.filter((o) => o.securityDefiner && o.routine);
      await this.#on(m, database, (s) =>
        s.batch([
          ...invoker.map((o) => makeSecurityInvoker(o.routine!)),
          ...reassignStatements(username, HEIR_ROLE, database, objects),
          sql.dropOwned(username),
        ]),
      );
      neutralised.push(...invoker.map((o) => ({ database, object: `${o.type} ${o.identity}` })));
    }
    // Privileges granted to the user elsewhere (and in the maintenance database's shared
    // catalog) go with DROP OWNED where nothing was owned.
    const dependents = await m.rows<{ name: string; connector_can_connect: boolean }>(sql.databasesDependingOn(username));
    const unreachable = dependents.filter((d) => !d.connector_can_connect).map((d) => d.name);
    for (const d of dependents) {
      if (d.connector_can_connect && !byDatabase.has(d.name)) await this.#on(m, d.name, (s) => s.batch([sql.dropOwned(username)]));
    }
    try {
      await m.batch([sql.dropRole(username)]);
    } catch (err) {
      if (sqlState(err) !== '2BP01') throw err;
      throw new ConflictError(
        `The database user ${username} on ${this.integration} still owns objects or holds privileges${
          unreachable.length ? ` in ${unreachable.join(', ')}, where the connector cannot connect` : ''
        }, so it cannot be dropped yet. Ask a database admin to reassign or drop them (REASSIGN OWNED BY / DROP OWNED BY in each database).`,
        { cause: err },
      );
    }
    return {
      dropped: true,
      kept: sweep.owned.map((o) => ({ database: o.database, object: `${o.type} ${o.identity}` })),
      neutralised,
      leftovers: sweep.removed,
    };
  }

  /**
   * Finds the subjects' leftovers (see leftovers.ts), removes each one on its own (one failure
   * does not stop the others), then looks again: what is still there is reported, not hidden.
   */
  async sweep(
    m: Session,
    connector: () => Promise<ConnectorRow>,
    subjects: LeftoverSubject[],
    groups: string[],
    groupPrivileges: boolean,
  ): Promise<SweepResult> {
    // The server version matters only for the group roles' memberships (SET option, 16+).
    const serverVersionNum = groupPrivileges ? (await connector()).server_version_num : 0;
    const options = { subjects, groups, groupPrivileges, serverVersionNum, heir: HEIR_ROLE };
    const on = <T>(database: string, work: (s: Session) => Promise<T>) => this.#on(m, database, work);
    const found = await findLeftovers(m, on, options);
    if (found.leftovers.length === 0)
      return { removed: [], remaining: [], failures: [], owned: found.owned, unreachable: found.unreachable };
    await this.actAs(m, await connector(), [...new Set(found.leftovers.flatMap((l) => l.actsAs))]);
    const failures: string[] = [];
    for (const l of found.leftovers) {
      try {
        await on(l.database ?? m.database, (s) => s.batch(l.fix));
      } catch (err) {
        failures.push(`remove ${l.what} (${l.object}): ${describeError(err)}`);
      }
    }
    const again = await findLeftovers(m, on, options);
    const still = new Set(again.leftovers.map(leftoverKey));
    const removed = found.leftovers.filter((l) => !still.has(leftoverKey(l))).map(asRemoval);
    if (removed.length > 0) {
      this.#options.logger?.warn(
        { integration: this.integration, removed: removed.map((r) => `${r.what}: ${r.object}`) },
        'removed what a person left behind',
      );
    }
    return { removed, remaining: again.leftovers, failures, owned: again.owned, unreachable: again.unreachable };
  }

  assertSwept(sweep: SweepResult, whose: string): void {
    if (sweep.remaining.length === 0 && sweep.unreachable.length === 0) return;
    const what = [
      ...sweep.remaining.map((l) => `${l.what} (${l.object})`),
      ...sweep.unreachable.map((d) => `what it holds in ${d}, where the connector cannot connect`),
    ].join(', ');
    throw new TargetUnavailableError(
      `Sesame could not remove what ${whose} left on ${this.integration}: ${what}${sweep.failures.length ? ` (${sweep.failures.join('; ')})` : ''}. It will try again.`,
    );
  }

  /**
   * Gives the connector the privileges of the roles it must act as to remove leftovers: only
   * roles Sesame made (people's users, group roles, the heir, which it creates here when first
   * needed). The connector created them, so PostgreSQL lets it (CREATEROLE up to 15, its ADMIN
   * option from 16).
   */
  async actAs(m: Session, connector: ConnectorRow, roles: string[]): Promise<void> {
    if (roles.length === 0 || connector.is_superuser) return;
    if (roles.includes(HEIR_ROLE)) await this.ensureHeir(m);
    const rows = await m.rows<RoleRow>(sql.rolesByName(roles));
    const missing = rows.filter((r) => !r.connector_has_privileges && r.comment?.startsWith(sql.SESAME_MARK));
    if (missing.length > 0) await m.batch(missing.map((r) => sql.grantRole(r.name, connector.connector)));
  }

  /** The heir: cannot log in, holds no privilege, is a member of nothing. */
  async ensureHeir(m: Session): Promise<void> {
    const [heir] = await m.rows<RoleRow>(sql.rolesByName([HEIR_ROLE]));
    if (heir) {
      if (heir.comment !== HEIR_MARK) throw this.#steps.notOurs(HEIR_ROLE);
      return;
    }
    await this.#steps.createRole(m, HEIR_ROLE, sql.createGroupRole(HEIR_ROLE), HEIR_MARK);
  }

  /** The scopes of the live grants behind `roles`, read from their group roles' marks. */
  async keptScopes(m: Session, roles: readonly string[]): Promise<GrantScopeKey[]> {
    const groups = roles.filter(isGroupRole);
    if (groups.length === 0) return [];
    const rows = await m.rows<RoleRow>(sql.rolesByName(groups));
    return rows.flatMap((r) => {
      if (!r.comment?.startsWith(sql.GROUP_ROLE_MARK)) return [];
      try {
        return [JSON.parse(r.comment.slice(sql.GROUP_ROLE_MARK.length)) as GrantScopeKey];
      } catch {
        return [];
      }
    });
  }
}
