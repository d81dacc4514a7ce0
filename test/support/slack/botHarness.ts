/**
 * The whole bot for end-to-end tests: the real `runBot` (the Slack notifier and directory, the
 * SQLite store in a file, the PostgreSQL engine) talking to a SlackStandIn. Over HTTP (Bolt on a
 * free loopback port) it is driven by a SignedAppDriver with Slack-signed requests; in Socket Mode
 * (`SLACK_APP_TOKEN` set) by a SocketModeDriver over the WebSocket the bot opens to the fake.
 * Restarting builds a new bot on the same SQLite file, as a process restart would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { parseConfigText } from '../../../src/config/load.ts';
import { runBot, type BotOverrides, type RunningBot } from '../../../src/main.ts';
import { ManualClock } from '../fakes.ts';
import { capturingLogger } from '../logs.ts';
import { APP, localIntegrationYaml, startCluster, type TestCluster } from '../postgres.ts';
import { SlackStandIn, type StandInMessage } from '../../../src/playground/slack/SlackStandIn.ts';
import { SignedAppDriver } from '../../../src/playground/slack/SignedAppDriver.ts';
import { SocketModeDriver } from '../../../src/playground/slack/SocketModeDriver.ts';

export const SIGNING_SECRET = 'e2e-signing-secret-0123456789abcdef';
export const APPROVAL_CHANNEL = 'C0APPROVALS';
const PG_ENV = 'E2E_PG_PASSWORD';
/** A schedule that never fires during a test: jobs run when the test says so. */
const NEVER = '0 0 1 1 *';

/** The people of the fake workspace. */
export const PEOPLE = {
  alice: { id: 'U0ALICE', name: 'alice', email: 'alice@example.com', tz: 'Europe/Paris' },
  bob: { id: 'U0BOB', name: 'bob', email: 'bob@example.com', tz: 'America/New_York' },
  carol: { id: 'U0CAROL', name: 'carol', email: 'carol@example.com' },
  dave: { id: 'U0DAVE', name: 'dave', email: 'dave@example.com' },
  admin: { id: 'U0ADMIN', name: 'admin', email: 'admin@example.com' },
} as const;

/** The user group that approves Dave's admin requests: Bob and Carol at the start. */
export const DBA_GROUP = { id: 'S0DBA', handle: 'dba', members: [PEOPLE.bob.id, PEOPLE.carol.id] };

/** How a test world differs from the usual one. */
export interface E2eOptions {
  /** Cron expressions for the jobs that should fire by themselves; the others never do. */
  schedule?: Partial<Record<'expire' | 'remind' | 'rotate' | 'cleanup' | 'discover', string>>;
  /** The config's accessFlows entries (YAML list items), in place of the usual three. */
  accessFlows?: string;
  /** The `local` integration's owners (a YAML mapping), in place of Bob as its only owner. */
  owners?: string;
  /** More top-level config (YAML), e.g. `bundles:`. */
  extraConfig?: string;
}

/** A channel of its own for the `local` integration's approval requests (see E2eOptions.owners). */
export const DBA_CHANNEL = 'C0DBA';

/**
 * An auto-approved readonly flow narrowed to appdb/public, a readwrite flow on appdb that
 * Bob or Carol approve, and an admin flow for Dave on appdb that @dba approves.
 */
export function e2eConfigText(cluster: TestCluster, dir: string, options: E2eOptions = {}): string {
  const s = { expire: NEVER, remind: NEVER, rotate: NEVER, cleanup: NEVER, discover: NEVER, ...options.schedule };
  return `
slack: { command: /access, approvalChannel: ${APPROVAL_CHANNEL}, admins: [${PEOPLE.admin.id}] }
state: { sqlite: ${join(dir, 'sesame.db')} }
schedule: { expire: "${s.expire}", remind: "${s.remind}", rotate: "${s.rotate}", cleanup: "${s.cleanup}", discover: "${s.discover}" }
integrations:
${localIntegrationYaml(cluster, PG_ENV, [`owners: ${options.owners ?? `{ integration: [${PEOPLE.bob.id}] }`}`])}
accessFlows:
${options.accessFlows ?? USUAL_FLOWS}
${options.extraConfig ?? ''}
`;
}

const USUAL_FLOWS = `  - name: read-now
    requestors: ["*"]
    targets: [{ integration: local, databases: [${APP.database}], schemas: [public] }]
    permissions: [readonly]
    maxDuration: 8h
    defaultDuration: 1h
    approvers: []
  - name: write-approved
    requestors: ["*"]
    targets: [{ integration: local, databases: [${APP.database}] }]
    permissions: [readwrite]
    maxDuration: 2h
    approvers: [${PEOPLE.bob.id}, ${PEOPLE.carol.id}]
    approvalMode: any
  - name: admin-by-dba
    requestors: [${PEOPLE.dave.id}]
    targets: [{ integration: local, databases: [${APP.database}] }]
    permissions: [admin]
    maxDuration: 1h
    approvers: ["@${DBA_GROUP.handle}"]`;

export interface E2eWorld<D = SignedAppDriver> {
  fake: SlackStandIn;
  clock: ManualClock;
  /** Every log line written, for proving that no secret reached them. */
  logLines: string[];
  bot: RunningBot;
  driver: D;
  /** Closes the running bot and starts another on the same state file. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** How the bot hears from Slack: its environment, and the driver that speaks to it. */
interface Transport<D> {
  /** Set over the world's environment; an undefined value removes the variable. */
  env(fake: SlackStandIn): Record<string, string | undefined>;
  overrides: BotOverrides;
  driver(bot: RunningBot, fake: SlackStandIn): D;
}

/** Starts SlackStandIn and the bot against `cluster`, in HTTP mode on a free port. */
export function startE2eWorld(cluster: TestCluster, options: E2eOptions = {}): Promise<E2eWorld> {
  return startWorld(
    cluster,
    {
      env: () => ({ SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_APP_TOKEN: undefined }),
      overrides: { port: 0 },
      driver: (bot, fake) =>
        new SignedAppDriver({ url: `http://127.0.0.1:${bot.port}/slack/events`, signingSecret: SIGNING_SECRET, standIn: fake }),
    },
    options,
  );
}

/**
 * Starts SlackStandIn and the bot against `cluster` in Socket Mode: `SLACK_APP_TOKEN` set (the
 * fake's, unless `appToken` says otherwise), no signing secret, health and metrics on `PORT`.
 */
export function startSocketModeWorld(
  cluster: TestCluster,
  options: { port: number; appToken?: string },
): Promise<E2eWorld<SocketModeDriver>> {
  return startWorld(cluster, {
    env: (fake) => ({ SLACK_APP_TOKEN: options.appToken ?? fake.appToken, SLACK_SIGNING_SECRET: undefined, PORT: String(options.port) }),
    overrides: {},
    driver: (_bot, fake) => new SocketModeDriver(fake),
  });
}

async function startWorld<D>(cluster: TestCluster, transport: Transport<D>, options: E2eOptions = {}): Promise<E2eWorld<D>> {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-e2e-'));
  const fake = await SlackStandIn.start({
    users: Object.values(PEOPLE).map((p) => ({ ...p })),
    channels: [
      { id: APPROVAL_CHANNEL, name: 'db-approvals' },
      { id: DBA_CHANNEL, name: 'dba' },
    ],
    usergroups: [{ ...DBA_GROUP, members: [...DBA_GROUP.members] }],
  });
  const clock = new ManualClock(new Date());
  const { logger, lines: logLines } = capturingLogger();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_API_URL: fake.apiUrl,
    [PG_ENV]: cluster.connector.password,
  };
  for (const [name, value] of Object.entries(transport.env(fake))) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const start = async () => {
    const config = parseConfigText(e2eConfigText(cluster, dir, options), env);
    const bot = await runBot(env, logger, { config, clock, host: '127.0.0.1', ...transport.overrides });
    return { bot, driver: transport.driver(bot, fake) };
  };
  const cleanUp = async () => {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  let started: Awaited<ReturnType<typeof start>>;
  try {
    started = await start();
  } catch (err) {
    await cleanUp();
    throw err;
  }
  const world: E2eWorld<D> = {
    fake,
    clock,
    logLines,
    ...started,
    async restart() {
      await world.bot.close();
      Object.assign(world, await start());
    },
    async stop() {
      await world.bot.close();
      await cleanUp();
    },
  };
  return world;
}

/** The newest DM to a person whose text matches, waited for up to 10 s. */
export function waitForDm(fake: SlackStandIn, userId: string, pattern: RegExp, what: string): Promise<StandInMessage> {
  return fake.waitFor(
    () =>
      fake
        .dmMessages(userId)
        .filter((m) => pattern.test(m.text))
        .at(-1),
    what,
    10_000,
  );
}

/**
 * Registers the suite's hooks: before its tests, a PostgreSQL `version` with the connector set
 * up and the bot's world on it, handed to `started`; after them, both stopped.
 */
export function e2eSuiteHooks(
  version: number,
  started: (suite: { cluster: TestCluster; world: E2eWorld }) => void,
  options: E2eOptions = {},
): void {
  let cluster: TestCluster | undefined;
  let world: E2eWorld | undefined;
  before(async () => {
    cluster = await startCluster(version);
    await cluster.completeConnectorSetup();
    world = await startE2eWorld(cluster, options);
    started({ cluster, world });
  });
  after(async () => {
    await world?.stop();
    await cluster?.stop();
  });
}
