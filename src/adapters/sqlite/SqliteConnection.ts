import type Database from 'better-sqlite3';
import { storeErrors } from '../../ports/stateStoreRules.ts';
import type { Row } from './rows.ts';

/**
 * One open database shared by the state store's parts: each distinct statement is prepared once
 * (the set is small and fixed by the code), and every use after closing fails the same way.
 */
export class SqliteConnection {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  statement(sql: string): Database.Statement {
    if (!this.#db.open) throw storeErrors.closed();
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** The first row `sql` returns, if any. */
  one(sql: string, ...params: unknown[]): Row | undefined {
    return this.statement(sql).get(...params) as Row | undefined;
  }

  /** Every row `sql` returns. */
  all(sql: string, ...params: unknown[]): Row[] {
    return this.statement(sql).all(...params) as Row[];
  }

  /** Runs `work` in one immediate transaction: it takes the write lock first, and commits all or nothing. */
  immediate<T>(work: () => T): T {
    return this.#db.transaction(work).immediate();
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
