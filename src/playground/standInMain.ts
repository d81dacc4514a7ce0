/**
 * `npm run slack-stand-in`: the playground's Slack stand-in on its own, for a bot under
 * development. It prints the environment that points a bot at it (`SLACK_API_URL`, and tokens it
 * accepts), then one JSON line per Web API call the bot makes, with Slack's answer, so Block Kit
 * the real Slack would refuse shows up here first. It knows the playground's people and its
 * approvals channel. Ctrl-C stops it.
 *
 * `--port N` (default 3100) picks the loopback port. Tokens come from `SLACK_BOT_TOKEN` and
 * `SLACK_APP_TOKEN` when set, else are made up: the stand-in holds nothing they could open.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { APPROVALS_CHANNEL, PLAYGROUND_PEOPLE } from './config.ts';
import { portArgument } from './server.ts';
import { SlackStandIn, type StandInCall } from './slack/SlackStandIn.ts';

export const DEFAULT_STAND_IN_PORT = 3100;

/** One line of the call log: the method, the HTTP status and what Slack's answer says, never a token. */
export function callLine(call: StandInCall): string {
  const response = typeof call.response === 'object' && call.response !== null ? (call.response as Record<string, unknown>) : {};
  return JSON.stringify({
    method: call.method,
    status: call.status,
    ok: response.ok === true,
    ...(typeof response.error === 'string' ? { error: response.error } : {}),
    ...(response.response_metadata ? { response_metadata: response.response_metadata } : {}),
  });
}

/** Runs the stand-in until SIGINT or SIGTERM; resolves to the exit code. */
export async function standInMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let standIn: SlackStandIn;
  try {
    const { values } = parseArgs({ args: argv, options: { port: { type: 'string' } } });
    standIn = await SlackStandIn.start({
      port: portArgument(values.port, DEFAULT_STAND_IN_PORT),
      botToken: env.SLACK_BOT_TOKEN || `xoxb-stand-in-${randomBytes(12).toString('hex')}`,
      appToken: env.SLACK_APP_TOKEN || `xapp-stand-in-${randomBytes(12).toString('hex')}`,
      botUserId: 'U0SESAME',
      users: PLAYGROUND_PEOPLE.map((p) => ({ id: p.id, name: p.email.split('@')[0]!, realName: p.name, email: p.email, tz: 'UTC' })),
      channels: [{ ...APPROVALS_CHANNEL }],
    });
  } catch (err) {
    const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
    process.stderr.write(`sesame slack-stand-in: ${inUse ? 'the port is in use; choose another with --port N' : (err as Error).message}\n`);
    return 2;
  }
  process.stdout.write(
    `# The Slack stand-in listens on 127.0.0.1 only. Point a bot at it with:\n` +
      `export SLACK_API_URL=${standIn.apiUrl} SLACK_BOT_TOKEN=${standIn.botToken} SLACK_APP_TOKEN=${standIn.appToken}\n`,
  );
  standIn.onCall((call) => process.stdout.write(`${callLine(call)}\n`));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await standIn.stop();
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  standInMain(process.argv.slice(2)).then((code) => process.exit(code));
}
