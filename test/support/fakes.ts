import { ConflictError, NotFoundError, TargetUnavailableError } from '../../src/domain/errors.ts';
import { formatTarget } from '../../src/domain/target.ts';
import type { Person, AccessRequest } from '../../src/domain/request.ts';
import type { Clock } from '../../src/ports/Clock.ts';
import type { Directory } from '../../src/ports/Directory.ts';
import type { LeftoverReport, Notifier } from '../../src/ports/Notifier.ts';
import type {
  CatalogQuery,
  CheckReport,
  ConnectionInfo,
  DropUserResult,
  GrantInput,
  GrantResult,
  LeftoverRemoval,
  ManagedUserState,
  RevokeInput,
  RevokeResult,
  TargetDatabase,
  TargetDatabases,
} from '../../src/ports/TargetDatabase.ts';

/** A clock tests move by hand instead of sleeping. */
export class ManualClock implements Clock {
  constructor(private current = new Date('2026-06-01T09:00:00Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
  set(at: Date): void {
    this.current = new Date(at);
  }
}

/** A directory of people and user groups given up front. */
export class FakeDirectory implements Directory {
  constructor(
    readonly people: Record<string, string | undefined> = {},
    readonly groups: Record<string, string[]> = {},
  ) {}
  async userIdByEmail(email: string) {
    return Object.entries(this.people).find(([, e]) => e === email.toLowerCase())?.[0];
  }
  async groupMembers(handle: string) {
    return this.groups[handle];
  }
  async person(slackId: string): Promise<Person> {
    const email = this.people[slackId];
    return email ? { slackId, email } : { slackId };
  }
}

/** Records every notification; can be told to fail to prove a failure never blocks the flow. */
export class RecordingNotifier implements Notifier {
  readonly events: { kind: string; id: string; status: string }[] = [];
  failing = false;
  private record(kind: string, r: AccessRequest) {
    this.events.push({ kind, id: r.id, status: r.status });
    if (this.failing) throw new Error('Slack is down');
  }
  async approvalRequested(r: AccessRequest) {
    this.record('approvalRequested', r);
  }
  async requestUpdated(r: AccessRequest) {
    this.record('requestUpdated', r);
  }
  async expiringSoon(r: AccessRequest) {
    this.record('expiringSoon', r);
  }
  async revocationFailing(r: AccessRequest) {
    this.record('revocationFailing', r);
  }
  readonly leftoverReports: LeftoverReport[] = [];
  async leftoversRemoved(report: LeftoverReport) {
    this.leftoverReports.push(report);
  }
  statusesOf(id: string): string[] {
    return this.events.filter((e) => e.id === id).map((e) => `${e.kind}:${e.status}`);
  }
}

interface FakeUser {
  managed: boolean;
  canLogin: boolean;
  validUntil: Date | null;
  roles: Set<string>;
  password?: string;
  /** The person the user was created for (the real engine keeps it in the role's mark). */
  ownerId?: string;
}

/**
 * The TargetDatabase port kept in memory: users, their memberships of per-scope roles, login and
 * VALID UNTIL. Serves the services' unit tests only; the engine itself is tested against real
 * PostgreSQL. `down` makes every call fail as an unreachable server would.
 */
export class FakeTargetDatabase implements TargetDatabase {
  readonly calls: string[] = [];
  down = false;
  /** Integrations on one server share `users`, as they share the server's roles. */
  constructor(
    readonly integration: string,
    private readonly key = `${integration}.example:5432`,
    readonly users = new Map<string, FakeUser>(),
  ) {}
  private reachable(what: string) {
    this.calls.push(what);
    if (this.down) throw new TargetUnavailableError(`${this.integration} cannot be reached.`);
  }
  async serverKey() {
    return this.key;
  }
  async connectionInfo(): Promise<ConnectionInfo> {
    return { host: `${this.integration}.example`, port: 5432, database: 'appdb', sslMode: 'require' };
  }
  /** The role a grant of permission on target gives (as the engine names them, one per scope). */
  static roleFor(input: Pick<GrantInput, 'target' | 'permission'>): string {
    if (input.permission.startsWith('role:')) return input.permission.slice(5);
    const { integration: _omit, ...scope } = input.target;
    return `sesame_${input.permission}_${formatTarget({ integration: 'x', ...scope })}`;
  }
  async grant(input: GrantInput): Promise<GrantResult> {
    this.reachable(`grant ${input.username}`);
    let user = this.users.get(input.username);
    const userCreated = !user;
    if (user) this.assertManaged(input.username, user);
    if (user?.ownerId !== undefined && input.ownerId !== undefined && user.ownerId !== input.ownerId) {
      throw new ConflictError(`The database user ${input.username} belongs to another person.`);
    }
    if (!user) {
      user = { managed: true, canLogin: true, validUntil: null, roles: new Set(), ...(input.ownerId ? { ownerId: input.ownerId } : {}) };
      this.users.set(input.username, user);
    }
    const role = FakeTargetDatabase.roleFor(input);
    user.roles.add(role);
    user.canLogin = true;
    user.validUntil = input.validUntil;
    return { roles: [role], userCreated };
  }
  async revoke(input: RevokeInput): Promise<RevokeResult> {
    this.reachable(`revoke ${input.username}`);
    const user = this.users.get(input.username);
    if (!user) return { removedRoles: [], terminatedSessions: 0, leftovers: [] };
    this.assertManaged(input.username, user);
    const toRemove = [...new Set(input.roles)].filter((r) => !input.keepRoles.includes(r));
    const removed = toRemove.filter((r) => user.roles.delete(r));
    user.validUntil = input.validUntil;
    if (input.validUntil === null) user.canLogin = false;
    // As the engine does: sessions end whenever a role goes, even when other grants remain.
    const terminatedSessions = toRemove.length > 0 || input.validUntil === null ? this.endSessions(input.username) : 0;
    return { removedRoles: removed, terminatedSessions, leftovers: this.takeLeftovers(input.username) };
  }
  /** A role with a managed user's name that Sesame did not create is never touched. */
  private assertManaged(username: string, user: FakeUser): void {
    if (!user.managed) throw new ConflictError(`A role named ${username} exists and Sesame did not create it.`);
  }
  /** Sessions a test opened as each user (tokens it holds); revoking or dropping the user ends them. */
  readonly sessions = new Map<string, Set<object>>();
  private endSessions(username: string): number {
    const open = this.sessions.get(username)?.size ?? 0;
    this.sessions.delete(username);
    return open;
  }
  /** What a test says a user left behind; the next revocation, sweep or drop removes and reports it. */
  readonly leftovers = new Map<string, LeftoverRemoval[]>();
  private takeLeftovers(username: string): LeftoverRemoval[] {
    const found = this.leftovers.get(username) ?? [];
    this.leftovers.delete(username);
    return found;
  }
  async removeLeftovers(input: { username: string }): Promise<LeftoverRemoval[]> {
    this.reachable(`removeLeftovers ${input.username}`);
    const user = this.users.get(input.username);
    if (!user) return [];
    this.assertManaged(input.username, user);
    return this.takeLeftovers(input.username);
  }
  /** Removes what a test said Sesame's group roles (`sesame_…`, keys of `leftovers`) left behind. */
  async secureSharedRoles(): Promise<LeftoverRemoval[]> {
    this.reachable('secureSharedRoles');
    return [...this.leftovers.keys()].filter((role) => role.startsWith('sesame_')).flatMap((role) => this.takeLeftovers(role));
  }
  async setPassword(username: string, password: string) {
    this.reachable(`setPassword ${username}`);
    const user = this.users.get(username);
    if (!user) throw new NotFoundError(`There is no database user ${username} on ${this.integration}.`);
    this.assertManaged(username, user);
    user.password = password;
  }
  async listManagedUsers(): Promise<ManagedUserState[]> {
    this.reachable('listManagedUsers');
    return [...this.users.entries()]
      .filter(([, u]) => u.managed)
      .map(([username, u]) => ({
        username,
        canLogin: u.canLogin,
        validUntil: u.validUntil,
        roles: [...u.roles],
        groupRoles: [...u.roles].filter((r) => r.startsWith('sesame_')),
        mayHaveLeftovers: this.leftovers.has(username),
      }));
  }
  async dropUser(username: string): Promise<DropUserResult> {
    this.reachable(`dropUser ${username}`);
    const user = this.users.get(username);
    if (user) this.assertManaged(username, user);
    this.endSessions(username);
    const dropped = this.users.delete(username);
    return { dropped, kept: [], neutralised: [], leftovers: this.takeLeftovers(username) };
  }
  /** The catalog the fake server has: database → schema → tables. */
  catalog: Record<string, Record<string, string[]>> = { appdb: { public: ['customers', 'orders'], sales: ['deals'] } };
  async listDatabases(q: CatalogQuery = {}) {
    if (this.down) throw new TargetUnavailableError(`${this.integration} cannot be reached.`);
    return pick(Object.keys(this.catalog), q);
  }
  async listSchemas(database: string, q: CatalogQuery = {}) {
    return pick(Object.keys(this.catalog[database] ?? {}), q);
  }
  async listTables(database: string, schema: string, q: CatalogQuery = {}) {
    return pick(this.catalog[database]?.[schema] ?? [], q);
  }
  async check(): Promise<CheckReport> {
    return { integration: this.integration, findings: [] };
  }
  async close() {}
}

/** TargetDatabases over given instances (fakes, or a real engine in the benchmark). */
export class FakeTargetDatabases<D extends TargetDatabase = FakeTargetDatabase> implements TargetDatabases {
  readonly byName = new Map<string, D>();
  constructor(dbs: D[]) {
    for (const db of dbs) this.byName.set(db.integration, db);
  }
  get(name: string): D {
    const db = this.byName.get(name);
    if (!db) throw new Error(`no database ${name}`);
    return db;
  }
  names() {
    return [...this.byName.keys()];
  }
  async closeAll() {}
}

function pick(names: string[], q: CatalogQuery): string[] {
  const search = q.search?.toLowerCase();
  return names
    .filter((n) => !search || n.toLowerCase().includes(search))
    .sort()
    .slice(0, q.limit ?? 100);
}
