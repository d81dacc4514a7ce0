import type pg from 'pg';
import { TargetUnavailableError } from '../../domain/errors.ts';
import { describeError } from '../../logger.ts';
import type { Statement } from './statements.ts';

/**
 * Told about every statement sent, with any secret in it replaced (parameters never hold one),
 * for tracing and for the benchmark's floor: the same statements sent directly.
 */
export type StatementObserver = (event: {
  integration: string;
  database: string;
  name: string;
  text: string;
  values?: unknown[];
  preparedAs?: string;
}) => void;

/** A connection to one database, sending statements and naming them when they fail. */
export class Session {
  constructor(
    readonly database: string,
    private readonly client: pg.PoolClient,
    private readonly integration: string,
    private readonly observe?: StatementObserver,
  ) {}

  async rows<R>(statement: Statement): Promise<R[]> {
    return (await this.send(statement.name, statement.text, statement.shownText, statement.values, statement.preparedAs)).rows as R[];
  }

  /** Sends value-free statements in one round trip; PostgreSQL runs them as one transaction. */
  async batch(statements: readonly Statement[]): Promise<void> {
    if (statements.length === 0) return;
    if (statements.some((s) => s.values !== undefined)) throw new Error('Statements with values cannot be batched.');
    const text = statements.map((s) => s.text).join(';\n');
    const shown = statements.map((s) => s.shownText ?? s.text).join(';\n');
    await this.send(statements.map((s) => s.name).join(', '), text, shown, undefined);
  }

  private async send(name: string, text: string, shownText: string | undefined, values: unknown[] | undefined, preparedAs?: string) {
    this.observe?.({
      integration: this.integration,
      database: this.database,
      name,
      text: shownText ?? text,
      ...(values ? { values } : {}),
      ...(preparedAs ? { preparedAs } : {}),
    });
    try {
      return await (preparedAs ? this.client.query({ name: preparedAs, text, values }) : this.client.query(text, values));
    } catch (err) {
      throw new TargetUnavailableError(
        `PostgreSQL refused to ${name} on ${this.integration} (database ${JSON.stringify(this.database)}): ${describeError(err)}.`,
        { cause: err },
      );
    }
  }
}
