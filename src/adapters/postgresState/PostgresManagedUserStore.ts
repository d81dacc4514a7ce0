import type { ManagedUser, ManagedUserFilter, ManagedUserPatch, ManagedUserStore } from '../../ports/StateStore.ts';
import { storeErrors } from '../../ports/stateStoreRules.ts';
import type { PostgresConnection } from './PostgresConnection.ts';
import { assignments, insertOf, MANAGED_USER_PATCH_COLUMNS, pgRows } from './rows.ts';

const { managedUserRow, toManagedUser } = pgRows;

/** The database users Sesame manages, in the `managed_users` table keyed by (server_key, username). */
export class PostgresManagedUserStore implements ManagedUserStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async upsertManagedUser(user: ManagedUser): Promise<ManagedUser> {
    const { text, params } = insertOf('managed_users', managedUserRow(user));
    await this.#db.query(`${text} ON CONFLICT (server_key, username) DO NOTHING`, params);
    // Users are never deleted, so the row just inserted or already there is still there.
    return (await this.getManagedUser(user.serverKey, user.username)) as ManagedUser;
  }

  async getManagedUser(serverKey: string, username: string): Promise<ManagedUser | undefined> {
    const row = await this.#db.one('SELECT * FROM managed_users WHERE server_key = $1 AND username = $2', serverKey, username);
    return row && toManagedUser(row);
  }

  async listManagedUsers(filter: ManagedUserFilter = {}): Promise<ManagedUser[]> {
    const rows = await this.#db.all(
      `SELECT * FROM managed_users
       WHERE ($1::text IS NULL OR server_key = $1) AND ($2 OR dropped_at IS NULL)
       ORDER BY server_key, username`,
      filter.serverKey ?? null,
      filter.includeDropped === true,
    );
    return rows.map(toManagedUser);
  }

  async updateManagedUser(serverKey: string, username: string, patch: ManagedUserPatch): Promise<void> {
    const { set, params } = assignments(patch, MANAGED_USER_PATCH_COLUMNS, 3);
    const found =
      set.length > 0
        ? ((
            await this.#db.query(`UPDATE managed_users SET ${set.join(', ')} WHERE server_key = $1 AND username = $2`, [
              serverKey,
              username,
              ...params,
            ])
          ).rowCount ?? 0) > 0
        : (await this.getManagedUser(serverKey, username)) !== undefined;
    if (!found) throw storeErrors.unknownManagedUser(serverKey, username);
  }
}
