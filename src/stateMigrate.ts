import { existsSync } from 'node:fs';
import {
  PostgresStateStore,
  type StateCounts,
  type StateSnapshot,
  type StateSslMode,
} from './adapters/postgresState/PostgresStateStore.ts';
import { parseStateUri, STATE_SSL_MODES } from './adapters/postgresState/stateUri.ts';
import { SqliteStateStore } from './adapters/sqlite/SqliteStateStore.ts';
import type { Config } from './config/schema.ts';
import type { StateStore } from './ports/StateStore.ts';

/** Where `sesame state migrate` copies from and to. */
export interface StateMigration {
  /** The SQLite state file. */
  from: string;
  to: { uri: string; sslMode: StateSslMode; sslRootCert?: string | undefined };
}

/** What a migration copied: the records read from SQLite, and those PostgreSQL then holds. */
export interface StateMigrationResult {
  where: string;
  read: StateCounts;
  written: StateCounts;
}

/**
 * Copies a SQLite state into an empty PostgreSQL state database, in one transaction, and counts
 * both sides. The target's schema is brought up to date first; a target holding anything is
 * refused and left as it was.
 */
export async function migrateState(migration: StateMigration): Promise<StateMigrationResult> {
  // Opening a file that is not there would create an empty state and copy nothing.
  if (!existsSync(migration.from)) throw new Error(`there is no SQLite state file at ${migration.from}; give it with --from.`);
  const source = SqliteStateStore.open(migration.from);
  const target = PostgresStateStore.open(migration.to);
  try {
    const snapshot = await readState(source);
    await target.ready();
    const written = await target.importState(snapshot);
    return { where: target.where, read: countsOf(snapshot), written };
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
}

/** Everything a store holds, read through its ports. */
export async function readState(store: StateStore): Promise<StateSnapshot> {
  const requests = await store.listRequests({});
  const perRequest = async <T>(read: (id: string) => Promise<T[]>): Promise<T[]> =>
    (await Promise.all(requests.map((r) => read(r.id)))).flat();
  return {
    requests,
    approvals: await perRequest((id) => store.listApprovals(id)),
    managedUsers: await store.listManagedUsers({ includeDropped: true }),
    audit: await store.listAudit(new Date(0)),
    notifications: await perRequest((id) => store.listNotifications(id)),
    sessions: await store.listSessionRecords({}),
  };
}

export function countsOf(snapshot: StateSnapshot): StateCounts {
  return {
    requests: snapshot.requests.length,
    approvals: snapshot.approvals.length,
    managedUsers: snapshot.managedUsers.length,
    audit: snapshot.audit.length,
    notifications: snapshot.notifications.length,
    sessions: snapshot.sessions.length,
  };
}

/**
 * The migration the command line asks for, or what is wrong with it (said without the URI, which
 * may hold a password). The config is read only for what the options leave out: the SQLite file
 * and the TLS settings of `state`.
 */
export function stateMigrationOf(
  to: string,
  options: Record<string, string | boolean | undefined>,
  configState: () => Config['state'],
): { migration?: StateMigration; problem?: string } {
  const uri = parseStateUri(to);
  if (typeof uri === 'string') return { problem: `--to ${uri}.` };
  const given = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const state = given('from') !== undefined && given('ssl-mode') !== undefined ? undefined : configState();
  const from = given('from') ?? state?.sqlite;
  if (from === undefined) return { problem: 'the config names no SQLite state file (state.sqlite); give the file with --from.' };
  const sslMode = given('ssl-mode') ?? state?.sslMode ?? 'verify-full';
  if (!(STATE_SSL_MODES as readonly string[]).includes(sslMode)) {
    return { problem: `--ssl-mode must be one of ${STATE_SSL_MODES.join(', ')}, not ${JSON.stringify(sslMode)}.` };
  }
  const sslRootCert = given('ssl-root-cert') ?? state?.sslRootCert;
  return { migration: { from, to: { uri: to, sslMode: sslMode as StateSslMode, ...(sslRootCert ? { sslRootCert } : {}) } } };
}
