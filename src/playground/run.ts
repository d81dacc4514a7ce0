/**
 * The playground: the whole product on one machine, on loopback only. An embedded PostgreSQL set
 * up like RDS with a sample database, a generated config read by the real loader, the real bot
 * (`runBot`: the real Bolt app over signed HTTP, the real services and engine) talking to a
 * local stand-in for Slack's Web API, and a page that shows Slack and lets people act in it.
 * Everything lives in a fresh temporary folder, removed when the playground stops.
 */
import { createWriteStream, mkdtempSync, rmSync, chmodSync, mkdirSync, type WriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createLogger, describeError, type Logger } from '../logger.ts';
import { runBot, type RunningBot } from '../main.ts';
import { APPROVALS_CHANNEL, PLAYGROUND_PEOPLE, writePlaygroundConfig } from './config.ts';
import { startSampleDatabase, type SampleDatabase } from './database.ts';
import { DEFAULT_LOCK_FILE, takeLock, type PlaygroundLock } from './lock.ts';
import type { PageAuditEvent, PlaygroundState } from './pageApi.ts';
import { listenPlaygroundServer, type PlaygroundServer } from './server.ts';
import { SignedAppDriver } from './slack/SignedAppDriver.ts';
import { SlackStandIn } from './slack/SlackStandIn.ts';
import { createPageRoutes, type PageRoutes } from './slack/pageRoutes.ts';
import { runSql } from './sql.ts';

export const DEFAULT_PLAYGROUND_PORT = 3000;
const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost'];
const AUDIT_SHOWN = 200;
const AUDIT_POLL_MS = 1000;

export interface PlaygroundOptions {
  /** Default 3000; 0 for any free port. */
  port?: number;
  /** 127.0.0.1 (default), ::1 or localhost; nothing else. */
  host?: string;
  /** Where the one-playground-per-machine lock lives (default in the system's temporary folder). */
  lockFile?: string;
}

export interface RunningPlayground {
  address: string;
  port: number;
  /** The temporary folder: PostgreSQL's data, the config, the state store, the log. */
  dataDir: string;
  /** The bot's and PostgreSQL's log. */
  logFile: string;
  /** Stops the bot, the page server, the stand-in and PostgreSQL, removes the folder, releases the lock. */
  stop(): Promise<void>;
}

export class PlaygroundHostError extends Error {
  constructor(host: string) {
    super(
      `the playground listens on loopback only (127.0.0.1, ::1 or localhost), not on ${host}: it has no login and its sample secrets are for this machine alone. Run Sesame itself (with a sesame.yml) to serve others.`,
    );
    this.name = 'PlaygroundHostError';
  }
}

function addressOf(host: string, port: number): string {
  return host === '::1' ? `http://[::1]:${port}/` : `http://127.0.0.1:${port}/`;
}

/** Stops started parts in reverse order, each one's failure written to the log and not stopping the rest. */
class Teardown {
  private readonly steps: { what: string; run: () => unknown }[] = [];
  constructor(private readonly report: (what: string, err: unknown) => void) {}
  add(what: string, run: () => unknown): void {
    this.steps.push({ what, run });
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (err) {
        this.report(step.what, err);
      }
    }
  }
}

function openLog(dir: string): { stream: WriteStream; logger: Logger; file: string } {
  const file = join(dir, 'sesame.log');
  const stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
  const level = process.env.LOG_LEVEL ?? 'info';
  // The log file gets everything; the terminal only errors.
  const destination = pino.multistream([
    { level: level === 'silent' ? 'fatal' : (level as pino.Level), stream },
    { level: 'error', stream: process.stderr },
  ]);
  return { stream, logger: createLogger({ level, destination }), file };
}

/** Starts the playground; the caller prints its address and stops it on Ctrl-C. */
export async function runPlayground(options: PlaygroundOptions = {}): Promise<RunningPlayground> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.includes(host)) throw new PlaygroundHostError(host);
  const bindHost = host === 'localhost' ? '127.0.0.1' : host;
  const requestedPort = options.port ?? DEFAULT_PLAYGROUND_PORT;
  const lock: PlaygroundLock = takeLock(options.lockFile ?? DEFAULT_LOCK_FILE, addressOf(bindHost, requestedPort));
  const dir = mkdtempSync(join(tmpdir(), 'sesame-playground-'));
  // PostgreSQL may run as another user (when started as root): it must reach its own folder.
  chmodSync(dir, 0o711);
  const log = openLog(dir);
  const teardown = new Teardown((what, err) => log.logger.error({ err: describeError(err) }, `stopping the playground: ${what} failed`));
  teardown.add('releasing the lock', () => lock.release());
  teardown.add('removing the temporary folder', () => rmSync(dir, { recursive: true, force: true }));
  teardown.add('closing the log', () => new Promise<void>((resolve) => log.stream.end(resolve)));
  try {
    const server = await listenPlaygroundServer(bindHost, requestedPort, (err) =>
      log.logger.error({ err: describeError(err) }, 'the playground failed to answer a request'),
    );
    teardown.add('closing the page server', () => server.close());
    const address = addressOf(bindHost, server.port);
    lock.update(address);
    await startParts({ dir, address, server, logger: log.logger, logStream: log.stream, teardown });
    let stopping: Promise<void> | undefined;
    return { address, port: server.port, dataDir: dir, logFile: log.file, stop: () => (stopping ??= teardown.run()) };
  } catch (err) {
    await teardown.run();
    throw err;
  }
}

interface PartsContext {
  dir: string;
  address: string;
  server: PlaygroundServer;
  logger: Logger;
  logStream: WriteStream;
  teardown: Teardown;
}

async function startParts({ dir, address, server, logger, logStream, teardown }: PartsContext): Promise<void> {
  const pgDir = join(dir, 'postgres');
  mkdirSync(pgDir);
  const db = await startSampleDatabase(pgDir, (line) => logStream.write(line.endsWith('\n') ? line : `${line}\n`));
  teardown.add('stopping PostgreSQL', () => db.stop());
  const { config, env: configEnv } = writePlaygroundConfig(db, dir);

  const signingSecret = randomBytes(24).toString('hex');
  const standIn = await SlackStandIn.start({
    botToken: `xoxb-playground-${randomBytes(16).toString('hex')}`,
    botUserId: 'U0SESAME',
    users: PLAYGROUND_PEOPLE.map((p) => ({ id: p.id, name: p.email.split('@')[0]!, realName: p.name, email: p.email, tz: 'UTC' })),
    channels: [{ ...APPROVALS_CHANNEL }],
  });
  teardown.add('stopping the Slack stand-in', () => standIn.stop());

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...configEnv,
    SLACK_BOT_TOKEN: standIn.botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: standIn.apiUrl,
  };
  delete env.SLACK_APP_TOKEN;
  const bot = await runBot(env, logger, { config, port: 0, host: '127.0.0.1' });
  teardown.add('stopping the bot', () => bot.close());

  const driver = new SignedAppDriver({ url: `http://127.0.0.1:${bot.port}/slack/events`, signingSecret, standIn });
  const routes = createPageRoutes({
    standIn,
    driver,
    people: PLAYGROUND_PEOPLE,
    approvalsChannel: APPROVALS_CHANNEL,
    command: config.slack.command,
  });
  const audit = auditWatch(bot, logger);
  teardown.add('stopping the audit watch', () => audit.stop());
  server.attach({
    state: () => playgroundState({ dir, address, db, routes, bot }),
    handle: (path, body) => routes.handle(path, body),
    sql: (body) => runSql(db, body),
    onChange(listener) {
      const off = routes.onChange(listener);
      const offAudit = audit.onGrowth(listener);
      return () => {
        off();
        offAudit();
      };
    },
  });
}

async function playgroundState(parts: {
  dir: string;
  address: string;
  db: SampleDatabase;
  routes: PageRoutes;
  bot: RunningBot;
}): Promise<PlaygroundState> {
  const events = await parts.bot.sesame.store.listAudit(new Date(0));
  const audit: PageAuditEvent[] = events.slice(-AUDIT_SHOWN).map((e) => ({
    at: e.at.toISOString(),
    action: e.action,
    actor: e.actor,
    ...(e.requestId ? { requestId: e.requestId } : {}),
    ...(e.integration ? { integration: e.integration } : {}),
    ...(e.details ? { details: e.details } : {}),
  }));
  return {
    ...parts.routes.state(),
    banner: { dataDir: parts.dir, address: parts.address },
    audit,
    database: { host: parts.db.host, port: parts.db.port, database: parts.db.database },
  };
}

/** Tells listeners when the audit trail grows (the store has no change feed; it is read each second). */
function auditWatch(bot: RunningBot, logger: Logger): { onGrowth(listener: () => void): () => void; stop(): void } {
  const listeners = new Set<() => void>();
  // The newest event seen: each tick reads only the events from its time on, not the whole trail.
  let newest: { at: Date; id: number } | undefined;
  let primed = false;
  let reading = false;
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    bot.sesame.store
      .listAudit(newest?.at ?? new Date(0))
      .then((events) => {
        const last = events.at(-1);
        const grew = last !== undefined && (newest === undefined || (last.id ?? 0) > newest.id);
        if (grew && primed) for (const l of listeners) l();
        if (last) newest = { at: last.at, id: last.id ?? 0 };
        primed = true;
      })
      .catch((err: unknown) => logger.warn({ err: describeError(err) }, 'reading the audit trail failed'))
      .finally(() => {
        reading = false;
      });
  }, AUDIT_POLL_MS);
  timer.unref();
  return {
    onGrowth(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => clearInterval(timer),
  };
}
