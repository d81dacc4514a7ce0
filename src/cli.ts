import { NoDirectory } from './adapters/log/NoDirectory.ts';
import { buildSesame, type DiscoveryPass, type Sesame } from './app.ts';
import { exportAudit } from './auditExport.ts';
import { parseCommandLine } from './cliArgs.ts';
import { configJsonSchemaText } from './config/jsonSchema.ts';
import { configPathFromEnv, loadConfig } from './config/load.ts';
import type { Config, IntegrationConfig } from './config/schema.ts';
import { ConfigError } from './domain/errors.ts';
import { createLogger, describeError, type Logger } from './logger.ts';
import { botMain } from './main.ts';
import type { CheckReport } from './ports/TargetDatabase.ts';
import { migrateState, stateMigrationOf } from './stateMigrate.ts';

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

/**
 * Runs one CLI command; resolves to the process exit code. Usage errors and `--help` are answered
 * before anything is loaded or opened. `start` keeps the process alive, so only the command line
 * itself runs it (below).
 */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const line = parseCommandLine(argv);
  if ('exit' in line) {
    if (line.out !== undefined) io.out(line.out);
    if (line.err !== undefined) io.err(line.err);
    return line.exit;
  }
  const command = line.run;
  try {
    switch (command) {
      case 'schema':
        io.out(configJsonSchemaText().trimEnd());
        return 0;
      case 'check':
        return await check(loadConfig(configPathFromEnv(io.env), io.env), io);
      case 'audit':
        return await audit(line.values, io);
      case 'sweep':
        return await sweep(loadConfig(configPathFromEnv(io.env), io.env), io);
      case 'state':
        return await migrateStateCommand(line.values, io);
      default:
        throw new Error('start runs the bot from the command line only (npm start).');
    }
  } catch (err) {
    io.err(err instanceof ConfigError ? err.message : `sesame ${command}: ${describeError(err)}`);
    return 2;
  }
}

async function check(config: Config, io: Io): Promise<number> {
  const sesame = buildSesame(config, { logger: io.logger, directory: new NoDirectory() });
  let failed = false;
  let sqlShown = false;
  try {
    try {
      await sesame.verifyIntegrations();
    } catch (err) {
      io.out(err instanceof ConfigError ? err.message : describeError(err));
      failed = true;
    }
    if (config.discovery.length > 0 && !(await reportDiscovery(sesame, io))) failed = true;
    if (sesame.integrations.list().length === 0) io.out('No integrations are configured.');
    for (const integration of sesame.integrations.list()) {
      const report = await checkIntegration(sesame, integration);
      io.out(formatCheckReport(report));
      if (report.findings.some((f) => f.level === 'error')) failed = true;
      if (report.findings.some((f) => f.level !== 'ok' && (f.fixSql?.length ?? 0) > 0)) sqlShown = true;
    }
  } finally {
    await sesame.close();
  }
  if (!failed) io.out('All integrations are ready.');
  else if (sqlShown) io.out('Some integrations need the SQL above before Sesame can grant access.');
  else io.out('Sesame cannot grant access until the errors above are fixed.');
  return failed ? 1 : 0;
}

/**
 * Runs discovery once and says what it found, or that it failed and why (once per region or
 * resource it could not read). Returns whether it read everything.
 */
async function reportDiscovery(sesame: Sesame, io: Io): Promise<boolean> {
  let pass: DiscoveryPass | undefined;
  try {
    pass = await sesame.discover();
  } catch (err) {
    io.out(`Discovery failed: ${describeError(err)}`);
    return false;
  }
  const errors = pass?.errors ?? [];
  for (const message of new Set(
    errors.map((e) => `Discovery failed in ${e.region}${e.resource ? ` for ${e.resource}` : ''}: ${e.message}`),
  )) {
    io.out(message);
  }
  const found = sesame.integrations.discovered().map((i) => i.name);
  if (found.length > 0) io.out(`Discovery found: ${found.join(', ')}.`);
  else if (errors.length === 0) io.out('Discovery found no RDS instance or Aurora cluster running PostgreSQL with the secret tag.');
  return errors.length === 0;
}

/** One integration's report: the AWS side first, then the database; a finding said twice is shown once. */
async function checkIntegration(sesame: Sesame, integration: IntegrationConfig): Promise<CheckReport> {
  const name = integration.name;
  let report: CheckReport;
  try {
    report = await sesame.databases.get(name).check();
  } catch (err) {
    report = { integration: name, findings: [{ level: 'error', message: describeError(err) }] };
  }
  try {
    report.findings.unshift(...(await sesame.checkAws(integration)));
  } catch (err) {
    report.findings.unshift({ level: 'error', message: describeError(err) });
  }
  // The database check asks AWS where the server is, so an AWS failure can come back from both.
  const seen = new Set<string>();
  report.findings = report.findings.filter((f) => !seen.has(f.message) && seen.add(f.message));
  return report;
}

/** A check report as a person reads it: one line a finding, with the SQL that fixes it. */
export function formatCheckReport(report: CheckReport): string {
  const mark = { ok: 'ok   ', warn: 'warn ', error: 'error' } as const;
  const lines = [`${report.integration}${report.serverVersion ? ` (PostgreSQL ${report.serverVersion})` : ''}`];
  for (const f of report.findings) {
    lines.push(`  ${mark[f.level]} ${f.message}`);
    for (const sql of f.fixSql ?? []) lines.push(`        ${sql}`);
  }
  return lines.join('\n');
}

async function audit(values: Record<string, string | boolean | undefined>, io: Io): Promise<number> {
  const since = parseDate(values.since, '--since');
  const until = values.until === undefined ? undefined : parseDate(values.until, '--until');
  const config = loadConfig(configPathFromEnv(io.env), io.env);
  const sesame = buildSesame(config, { logger: io.logger, directory: new NoDirectory(), databases: emptyDatabases() });
  try {
    const text = (value: string | boolean | undefined) => (typeof value === 'string' ? value : undefined);
    await exportAudit(sesame.store, { since, until, request: text(values.request), person: text(values.person) }, io.out);
    return 0;
  } finally {
    await sesame.close();
  }
}

function parseDate(text: string | boolean | undefined, flag: string): Date {
  if (typeof text !== 'string' || !text) throw new Error(`${flag} is required, e.g. ${flag} 2026-01-01.`);
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw new Error(`${flag} "${text}" is not a date; write it like 2026-01-01 or 2026-01-01T09:00:00Z.`);
  return at;
}

async function sweep(config: Config, io: Io): Promise<number> {
  const sesame = buildSesame(config, { logger: io.logger, directory: new NoDirectory() });
  try {
    await sesame.discover();
    await sesame.services.grants.resume();
    const expired = await sesame.services.revocations.expireDue();
    const reconciled = await sesame.services.maintenance.reconcile();
    const timedOut = await sesame.services.maintenance.timeOutPending();
    io.out(JSON.stringify({ expired, timedOut, reconciled }));
    return reconciled.errors.length > 0 ? 1 : 0;
  } finally {
    await sesame.close();
  }
}

/** `state migrate`: the SQLite state into an empty PostgreSQL database, with the counts of both sides. */
async function migrateStateCommand(values: Record<string, string | boolean | undefined>, io: Io): Promise<number> {
  const to = typeof values.to === 'string' ? values.to : undefined;
  if (!to) throw new Error('--to is required: the PostgreSQL state database, like --to postgres://user:password@host:5432/sesame.');
  const { migration, problem } = stateMigrationOf(to, values, () => loadConfig(configPathFromEnv(io.env), io.env).state);
  if (problem) {
    io.err(`sesame state migrate: ${problem}`);
    return 2;
  }
  const result = await migrateState(migration!);
  io.out(`Copied the state of ${migration!.from} into ${result.where}:`);
  const kinds = Object.keys(result.read) as (keyof typeof result.read)[];
  for (const kind of kinds)
    io.out(`  ${kind.padEnd(14)} ${String(result.read[kind]).padStart(7)} read  ${String(result.written[kind]).padStart(7)} written`);
  const same = kinds.every((kind) => result.read[kind] === result.written[kind]);
  io.out(same ? 'The counts match.' : 'The counts differ: check the PostgreSQL database before pointing Sesame at it.');
  return same ? 0 : 1;
}

/** The audit export touches no database. */
function emptyDatabases() {
  return {
    get(name: string): never {
      throw new Error(`No database is opened for ${name} while exporting the audit trail.`);
    },
    names: () => [],
    closeAll: async () => {},
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const line = parseCommandLine(argv);
  if ('run' in line && line.run === 'start') {
    botMain(process.env);
  } else {
    runCli(argv, {
      out: (l) => process.stdout.write(`${l}\n`),
      err: (l) => process.stderr.write(`${l}\n`),
      env: process.env,
      logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn', destination: process.stderr as never }),
    }).then((code) => process.exit(code));
  }
}
