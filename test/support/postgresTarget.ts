import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { PostgresIntegrationConfig } from '../../src/config/schema.ts';
import type { ConnectorAuditEvent, PostgresTargetDatabase, StatementObserver } from '../../src/adapters/postgres/PostgresTargetDatabase.ts';
import { postgresTargetDatabase } from '../../src/adapters/postgres/postgresTargetDatabases.ts';
import { after, before } from 'node:test';
import { startCluster, type TestCluster } from './postgres.ts';

/** A PostgresTargetDatabase on a test cluster, recording audit events and statements sent. */
export interface TestTarget {
  db: PostgresTargetDatabase;
  audit: ConnectorAuditEvent[];
  statements: Parameters<StatementObserver>[0][];
}

export function targetFor(cluster: TestCluster, overrides: Partial<PostgresIntegrationConfig> = {}): TestTarget {
  const audit: ConnectorAuditEvent[] = [];
  const statements: Parameters<StatementObserver>[0][] = [];
  const config = cluster.integrationConfig(overrides);
  const db = postgresTargetDatabase(config, {
    audit: async (event) => {
      audit.push(event);
    },
    onStatement: (event) => statements.push(event),
  });
  return { db, audit, statements };
}

/** A random password of the kind Sesame mints. */
export function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** An expiry `minutes` from now. */
export function inMinutes(minutes: number): Date {
  return new Date(Date.now() + minutes * 60_000);
}

/** Asserts that `sql` fails for the client with a permission error. */
export async function assertDenied(client: pg.Client, sql: string, params: unknown[] = []): Promise<void> {
  await assert.rejects(client.query(sql, params), (err: Error & { code?: string }) => {
    assert.equal(err.code, '42501', `expected permission denied for ${sql}, got ${err.code}: ${err.message}`);
    return true;
  });
}

/** Runs `sql` and returns its rows, failing the test with the statement if it is refused. */
export async function rowsOf<R = Record<string, unknown>>(client: pg.Client, sql: string, params: unknown[] = []): Promise<R[]> {
  try {
    return (await client.query(sql, params)).rows as R[];
  } catch (err) {
    throw new Error(`${sql} failed: ${(err as Error).message}`);
  }
}

/**
 * Registers before/after hooks that start an RDS-like cluster of `version` with an engine on
 * it (the connector set up as an admin would from 16 on) and close the clients a test opened.
 */
export function useEngineOn(version: number): { cluster: () => TestCluster; t: () => TestTarget; clients: pg.Client[] } {
  let cluster: TestCluster | undefined;
  let t: TestTarget | undefined;
  const clients: pg.Client[] = [];
  before(async () => {
    cluster = await startCluster(version);
    // From 16 on, an admin gives the connector the owners' privileges (the connector suite
    // covers the fresh cluster); up to 15 the connector takes them itself.
    if (version >= 16) await cluster.completeConnectorSetup();
    t = targetFor(cluster);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await t?.db.close();
    await cluster?.stop();
  });
  return { cluster: () => cluster!, t: () => t!, clients };
}
