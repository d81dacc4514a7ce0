import type { ManagedUser, ManagedUserFilter, ManagedUserPatch, ManagedUserStore } from '../../ports/StateStore.ts';
import { storeErrors } from '../../ports/stateStoreRules.ts';
import { insertSql, setClause } from './columns.ts';
import { MANAGED_USER_PATCH_COLUMNS, managedUserRow, toManagedUser } from './rows.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

/** The database users Sesame manages, in the `managed_users` table keyed by (server_key, username). */
export class SqliteManagedUserStore implements ManagedUserStore {
  readonly #db: SqliteConnection;

  constructor(db: SqliteConnection) {
    this.#db = db;
  }

  async upsertManagedUser(user: ManagedUser): Promise<ManagedUser> {
    const row = managedUserRow(user);
    this.#db.statement(`${insertSql('managed_users', row)} ON CONFLICT (server_key, username) DO NOTHING`).run(row);
    // Users are never deleted, so the row just inserted or already there is still there.
    return (await this.getManagedUser(user.serverKey, user.username)) as ManagedUser;
  }

  async getManagedUser(serverKey: string, username: string): Promise<ManagedUser | undefined> {
    const row = this.#db.one('SELECT * FROM managed_users WHERE server_key = ? AND username = ?', serverKey, username);
    return row && toManagedUser(row);
  }

  async listManagedUsers(filter: ManagedUserFilter = {}): Promise<ManagedUser[]> {
    const rows = this.#db.all(
      `SELECT * FROM managed_users
       WHERE (@serverKey IS NULL OR server_key = @serverKey)
         AND (@includeDropped OR dropped_at IS NULL)
       ORDER BY server_key, username`,
      { serverKey: filter.serverKey ?? null, includeDropped: filter.includeDropped === true ? 1 : 0 },
    );
    return rows.map(toManagedUser);
  }

  async updateManagedUser(serverKey: string, username: string, patch: ManagedUserPatch): Promise<void> {
    const { assignments, params } = setClause(patch, MANAGED_USER_PATCH_COLUMNS);
    const found =
      assignments.length > 0
        ? this.#db
            .statement(`UPDATE managed_users SET ${assignments.join(', ')} WHERE server_key = ? AND username = ?`)
            .run(...params, serverKey, username).changes > 0
        : (await this.getManagedUser(serverKey, username)) !== undefined;
    if (!found) throw storeErrors.unknownManagedUser(serverKey, username);
  }
}
