import type { IntegrationConfig } from '../../config/schema.ts';
import type { IntegrationsInView } from '../../ports/IntegrationsInView.ts';
import { integrationNotFound } from '../../domain/errors.ts';
import type { TargetDatabases } from '../../ports/TargetDatabase.ts';
import type { PostgresTargetDatabase } from './PostgresTargetDatabase.ts';
import { postgresTargetDatabase, type PostgresTargetDatabasesDeps } from './postgresTargetDatabases.ts';

/**
 * A PostgresTargetDatabase for each integration the registry knows, configured or discovered,
 * built when first used. When discovery changes an integration (a new endpoint or secret), its
 * pools are closed and the next use builds it anew.
 */
export class RegistryTargetDatabases implements TargetDatabases {
  private readonly built = new Map<string, PostgresTargetDatabase>();

  constructor(
    private readonly registry: IntegrationsInView<IntegrationConfig>,
    private readonly deps: PostgresTargetDatabasesDeps = {},
  ) {
    registry.onChange((changes) => {
      for (const name of [...changes.changed, ...changes.returned]) void this.forget(name);
    });
  }

  get(name: string): PostgresTargetDatabase {
    const existing = this.built.get(name);
    if (existing) return existing;
    const config = this.registry.get(name);
    if (!config) {
      throw integrationNotFound(
        name,
        this.registry.list().map((i) => i.name),
      );
    }
    const db = postgresTargetDatabase(config, this.deps);
    this.built.set(name, db);
    return db;
  }

  names(): string[] {
    return this.registry.list().map((i) => i.name);
  }

  async closeAll(): Promise<void> {
    const all = [...this.built.values()];
    this.built.clear();
    await Promise.all(all.map((db) => db.close()));
  }

  private async forget(name: string): Promise<void> {
    const db = this.built.get(name);
    this.built.delete(name);
    await db?.close();
  }
}
