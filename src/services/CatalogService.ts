import type { FlowTarget } from '../domain/flows.ts';
import type { TargetDatabases } from '../ports/TargetDatabase.ts';
import type { IntegrationRegistry } from './IntegrationRegistry.ts';
import type { People } from './People.ts';

/** What the catalog reads: which integrations are served, their databases, and the person's flows. */
export interface CatalogDeps {
  integrations: Pick<IntegrationRegistry, 'isAvailable'>;
  databases: TargetDatabases;
  people: Pick<People, 'flowsFor'>;
}

/**
 * What the request modal offers: the databases, schemas and tables of an integration that at
 * least one of the person's flows covers, read from the server's catalog.
 */
export class CatalogService {
  constructor(private readonly deps: CatalogDeps) {}

  async databases(slackId: string, integration: string, search?: string): Promise<string[]> {
    const narrowing = await this.narrowing(slackId, integration);
    if (!narrowing) return [];
    const names = await this.deps.databases.get(integration).listDatabases({ ...(search ? { search } : {}) });
    return narrowing.databases ? names.filter((d) => narrowing.databases!.has(d)) : names;
  }

  async schemas(slackId: string, integration: string, database: string, search?: string): Promise<string[]> {
    const narrowing = await this.narrowing(slackId, integration);
    if (!narrowing || (narrowing.databases && !narrowing.databases.has(database))) return [];
    const names = await this.deps.databases.get(integration).listSchemas(database, { ...(search ? { search } : {}) });
    return narrowing.schemas ? names.filter((s) => narrowing.schemas!.has(s)) : names;
  }

  async tables(slackId: string, integration: string, database: string, schema: string, search?: string): Promise<string[]> {
    const narrowing = await this.narrowing(slackId, integration);
    if (!narrowing || (narrowing.databases && !narrowing.databases.has(database))) return [];
    if (narrowing.schemas && !narrowing.schemas.has(schema)) return [];
    const names = await this.deps.databases.get(integration).listTables(database, schema, { ...(search ? { search } : {}) });
    return narrowing.tables ? names.filter((t) => narrowing.tables!.has(t)) : names;
  }

  /**
   * The union of what the person's flows allow on the integration: undefined sets mean "any".
   * Undefined altogether when no flow of theirs covers the integration.
   */
  private async narrowing(slackId: string, integration: string) {
    if (!this.deps.integrations.isAvailable(integration)) return undefined;
    const flows = await this.deps.people.flowsFor(slackId);
    const entries: FlowTarget[] = flows.flatMap((f) =>
      f.targets ? f.targets.filter((t) => t.integration === integration) : [{ integration }],
    );
    if (entries.length === 0) return undefined;
    const union = (key: 'databases' | 'schemas' | 'tables') =>
      entries.some((e) => !e[key]) ? undefined : new Set(entries.flatMap((e) => e[key] ?? []));
    return { databases: union('databases'), schemas: union('schemas'), tables: union('tables') };
  }
}
