import pg from 'pg';
import { postgresTargetDatabase } from '../src/adapters/postgres/postgresTargetDatabases.ts';
import { grantMembership, managedUserMark, quoteIdent, quoteLiteral, timestampLiteral } from '../src/adapters/postgres/statements.ts';
import type { Target } from '../src/domain/target.ts';
import { APP, type TestCluster } from '../test/support/postgres.ts';
import { DirectSender, percentile, timed, type SentStatement } from './replay.ts';

/*
 * Repeat grants on an unchanged scope (an existing user joins an existing group, nothing changed
 * in the catalog) beside two floors, interleaved grant by grant on the same warm server: the
 * statements Sesame sent, sent directly (DirectSender), and the minimal SQL a DBA would type for
 * the same outcome, `ALTER ROLE … LOGIN VALID UNTIL …; GRANT group TO user` (inherit-only from
 * 16, as Sesame gives it), in one message over one open connection.
 */

const round = (n: number) => Math.round(n * 100) / 100;
const pad = (i: number) => String(i).padStart(5, '0');

function figures(ms: number[]) {
  const total = ms.reduce((a, b) => a + b, 0);
  return { p50Ms: round(percentile(ms, 50)), p95Ms: round(percentile(ms, 95)), perSecond: round((ms.length / total) * 1000) };
}

/** People who had access once: managed users that exist, cannot log in and belong to no group. */
async function formerUsers(cluster: TestCluster, prefix: string, count: number): Promise<void> {
  const mark = quoteLiteral(managedUserMark('bench', undefined));
  for (let from = 0; from < count; from += 500) {
    const to = Math.min(count, from + 500) - 1;
    await cluster.query(
      `DO $$ BEGIN FOR i IN ${from}..${to} LOOP
         EXECUTE format('CREATE ROLE %I NOLOGIN', ${quoteLiteral(prefix)} || lpad(i::text, 5, '0'));
         EXECUTE format('COMMENT ON ROLE %I IS %L', ${quoteLiteral(prefix)} || lpad(i::text, 5, '0'), ${mark});
       END LOOP; END $$`,
      [],
      // Made by the connector, as Sesame makes them: from 16 it may change only roles it made.
      { as: { user: cluster.connector.username, password: cluster.connector.password } },
    );
  }
}

export async function grantFloorBenchmark(cluster: TestCluster, count: number, log: (line: string) => void) {
  let recorded: SentStatement[] | undefined;
  const engine = postgresTargetDatabase(cluster.integrationConfig({ name: 'bench' }), {
    onStatement: (e) => recorded?.push({ database: e.database, text: e.text, ...(e.values ? { values: e.values } : {}) }),
  });
  const connect = (database: string) => ({
    host: cluster.host,
    port: cluster.port,
    database,
    user: cluster.connector.username,
    password: cluster.connector.password,
  });
  const direct = new DirectSender(connect);
  const minimal = new pg.Client(connect(APP.database));
  await minimal.connect();
  await direct.warm([APP.database, 'postgres']);
  for (const prefix of ['repeat_a_', 'repeat_b_', 'repeat_c_']) await formerUsers(cluster, prefix, count);
  const target: Target = { integration: 'bench', database: APP.database, schema: 'public' };
  const validUntil = new Date(Date.now() + 3_600_000);
  // The first grant on the scope in this process is a full one: it gives the group everything.
  const warm = await engine.grant({ username: 'repeat_warmup', ownerLabel: 'bench', target, permission: 'readonly', validUntil });
  const group = warm.roles[0]!;
  const [{ version } = { version: 0 }] = await cluster.query<{ version: number }>(
    `SELECT current_setting('server_version_num')::int AS version`,
  );
  const ms = { engine: [] as number[], today: [] as number[], minimal: [] as number[] };
  let statements = 0;
  for (let i = 0; i < count; i++) {
    recorded = [];
    const [, engineMs] = await timed(() =>
      engine.grant({ username: `repeat_a_${pad(i)}`, ownerLabel: 'bench', target, permission: 'readonly', validUntil }),
    );
    const sent = recorded;
    recorded = undefined;
    statements = Math.max(statements, sent.length);
    ms.engine.push(engineMs);
    ms.today.push((await timed(() => direct.send(sent, 'repeat_a_', 'repeat_b_')))[1]);
    const user = `repeat_c_${pad(i)}`;
    const dba = `ALTER ROLE ${quoteIdent(user)} WITH LOGIN VALID UNTIL ${timestampLiteral(validUntil)}; ${grantMembership(group, user, version).text}`;
    ms.minimal.push((await timed(() => minimal.query(dba)))[1]);
  }
  await engine.close();
  await direct.close();
  await minimal.end();
  const result = {
    grants: count,
    statements,
    engine: figures(ms.engine),
    sameSqlDirect: figures(ms.today),
    minimal: figures(ms.minimal),
    ratioToSameSqlP50: 0,
    ratioToMinimalP50: 0,
    targetToMinimal: 1.5,
  };
  result.ratioToSameSqlP50 = round(result.engine.p50Ms / result.sameSqlDirect.p50Ms);
  result.ratioToMinimalP50 = round(result.engine.p50Ms / result.minimal.p50Ms);
  log(
    `repeat grant ×${count} (unchanged scope)  engine p50 ${result.engine.p50Ms} ms  p95 ${result.engine.p95Ms} ms  ${statements} statement(s)` +
      `   same SQL direct p50 ${result.sameSqlDirect.p50Ms} ms (ratio ${result.ratioToSameSqlP50})` +
      `   minimal SQL p50 ${result.minimal.p50Ms} ms  p95 ${result.minimal.p95Ms} ms (ratio ${result.ratioToMinimalP50}, target ≤ 1.5)`,
  );
  return result;
}
