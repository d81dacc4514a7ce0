import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/*
 * The command line's words: which command, which options, the help of each. Reading them never
 * touches the config, the state file or a database, so `--help` and a usage error change nothing.
 */

export const USAGE = `Usage: sesame <command> [options]   (npm run sesame -- <command>)

Commands:
  start                      run the bot (same as npm start)
  check                      load the config, connect to every integration, and list what the
                             connector lacks with the SQL that fixes it; exits 1 if anything is missing
  schema                     print the JSON Schema of sesame.yml
  audit --since <date> [--until <date>] [--request <id>] [--person <Slack ID or email>]
                             print the audit trail and the statements run under each grant as
                             JSON lines (dates like 2026-01-01 or ISO times)
  sweep                      run expiry, reconciliation and pending time-outs once, then exit
  state migrate --to <postgres URI>
                             copy the SQLite state into an empty PostgreSQL state database

Options:
  -h, --help                 print this help (or a command's: sesame <command> --help)
  -v, --version              print Sesame's version

The config is read from $SESAME_CONFIG (default ./sesame.yml).`;

type Options = NonNullable<ParseArgsConfig['options']>;

interface CommandSpec {
  summary: string;
  usage: string;
  options: Options;
  /** The words that may follow the command, one of which must (`state migrate`). */
  subcommands?: readonly string[];
}

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const satisfies Options;

const COMMANDS: Record<string, CommandSpec> = {
  start: {
    usage: 'sesame start',
    summary:
      'Runs the bot: loads the config, opens the state file, connects to Slack, and serves\n/slack/events, /healthz, /readyz and /metrics on $PORT (default 3000).',
    options: {},
  },
  check: {
    usage: 'sesame check',
    summary:
      'Loads the config, connects to every integration (and asks AWS about RDS ones), and lists\nwhat the connector lacks, with the SQL that fixes it. Exits 0 when all is ready, 1 otherwise.',
    options: {},
  },
  schema: {
    usage: 'sesame schema',
    summary: 'Prints the JSON Schema of sesame.yml on stdout. Reads no config.',
    options: {},
  },
  audit: {
    usage: 'sesame audit --since <date> [--until <date>] [--request <id>] [--person <Slack ID or email>]',
    summary:
      'Prints the audit trail from --since (up to --until) as JSON lines ("type": "audit"), then what\nmanaged users did under each grant, read from the session logs of integrations with audit: true\n("type": "session": logins, logouts and statements, each with its request ID). --request keeps\none request (or every part of a request for several targets); --person one person\'s, as\nrequester or actor. Dates are written like 2026-01-01 or 2026-01-01T09:00:00Z.',
    options: { since: { type: 'string' }, until: { type: 'string' }, request: { type: 'string' }, person: { type: 'string' } },
  },
  sweep: {
    usage: 'sesame sweep',
    summary: 'Runs expiry, reconciliation and pending time-outs once, prints what it did as JSON, then exits.',
    options: {},
  },
  state: {
    usage: 'sesame state migrate --to <postgres URI> [--from <file>] [--ssl-mode <mode>] [--ssl-root-cert <file>]',
    summary:
      "Copies the SQLite state (--from, default the config's state.sqlite or $SESAME_STATE) into the\n" +
      'PostgreSQL database of --to, which must be empty, then prints the counts on both sides.\n' +
      "TLS: --ssl-mode disable, require, verify-ca or verify-full (default: the config's state.sslMode,\n" +
      'else verify-full) and --ssl-root-cert (default state.sslRootCert).',
    options: { to: { type: 'string' }, from: { type: 'string' }, 'ssl-mode': { type: 'string' }, 'ssl-root-cert': { type: 'string' } },
    subcommands: ['migrate'],
  },
};

/** What the command line asks for: a command to run with its options, or an answer and an exit code. */
export type CommandLine =
  | { run: string; values: Record<string, string | boolean | undefined> }
  | { exit: number; out?: string; err?: string };

/** The help of one command, as `sesame <command> --help` prints it. */
export function commandHelp(command: string): string {
  const spec = COMMANDS[command]!;
  const own = Object.entries(spec.options).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}`);
  return [
    `Usage: ${spec.usage}   (npm run sesame -- ${command} …)`,
    '',
    spec.summary,
    '',
    'Options:',
    ...own,
    '  -h, --help                 print this help',
    '',
    'The config is read from $SESAME_CONFIG (default ./sesame.yml).',
  ].join('\n');
}

/** Sesame's version, from its package.json. */
export function sesameVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/**
 * Reads the command line the way common CLIs do: no command is a usage error (usage on stderr,
 * exit 2); `--help` prints help on stdout and exits 0; an unknown command or option is a usage
 * error that names it and points at `--help`.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const [command, ...rest] = argv;
  if (command === undefined) return { exit: 2, err: USAGE };
  if (command === 'help' || command === '--help' || command === '-h') return { exit: 0, out: USAGE };
  if (command === '--version' || command === '-v' || command === 'version') return { exit: 0, out: sesameVersion() };
  const spec = COMMANDS[command];
  if (!spec) {
    const what = command.startsWith('-') ? `Unknown option "${command}"` : `Unknown command "${command}"`;
    return { exit: 2, err: `${what}. Run "sesame --help" for the commands.\n\n${USAGE}` };
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: { ...spec.options, ...HELP_OPTION },
      strict: true,
      allowPositionals: spec.subcommands !== undefined,
    });
    if (values.help) return { exit: 0, out: commandHelp(command) };
    if (spec.subcommands === undefined) return { run: command, values };
    const [subcommand, ...extra] = positionals;
    if (subcommand === undefined || !spec.subcommands.includes(subcommand) || extra.length > 0) {
      const what = subcommand === undefined ? 'needs one of' : `does not know "${positionals.join(' ')}"; it takes one of`;
      return { exit: 2, err: `sesame ${command} ${what}: ${spec.subcommands.join(', ')}. Run "sesame ${command} --help" for its usage.` };
    }
    return { run: command, values: { ...values, subcommand } };
  } catch (err) {
    const reason = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '').trim();
    return { exit: 2, err: `sesame ${command}: ${reason.replace(/\.$/, '')}. Run "sesame ${command} --help" for its usage.` };
  }
}
