/**
 * The bot as a real process (`npm start`, or node on src/main.ts), its output collected, and
 * killed (with its process group, when it has one) by `killAll` in a test file's `after`, even
 * when a test failed half way.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from './poll.ts';

/** One JSON log line of the bot. */
export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface BotProcess {
  child: ChildProcessWithoutNullStreams;
  /** The exit code, or the signal that ended the process. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  out(): string;
  err(): string;
  /** stdout's lines, each parsed as JSON (a line that is not JSON throws, naming it). */
  lines(): LogLine[];
  /** Resolves with the first log line that `match` accepts. */
  waitForLine(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
}

const running = new Set<{ pid: number; group: boolean }>();

/** Starts `command` in the project's folder with `env` over the test's own environment. */
export function spawnBot(command: string, args: string[], env: Record<string, string>, options: { group?: boolean } = {}): BotProcess {
  const child = spawn(command, args, {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group, so that a test can signal the group as a terminal's Ctrl-C does.
    detached: options.group ?? false,
  });
  const entry = { pid: child.pid!, group: options.group ?? false };
  running.add(entry);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      // A group may outlive its leader (npm gone, the bot still there): killAll kills it then.
      if (!entry.group) running.delete(entry);
      resolve({ code, signal });
    }),
  );
  const lines = () =>
    stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        try {
          return JSON.parse(l) as LogLine;
        } catch {
          throw new Error(`a stdout line is not JSON: ${JSON.stringify(l)}`);
        }
      });
  return {
    child,
    exited,
    out: () => stdout,
    err: () => stderr,
    lines,
    waitForLine: (match, what, timeoutMs = 30_000) =>
      pollUntil(
        () => lines().find(match),
        () => `${what}; stdout so far:\n${stdout}\nstderr:\n${stderr}`,
        { timeoutMs, intervalMs: 50 },
      ),
  };
}

/** The bot with node itself, as the image runs it. */
export function spawnNodeBot(env: Record<string, string>): BotProcess {
  return spawnBot(process.execPath, ['--import', 'tsx', 'src/main.ts'], env);
}

/** Kills every process started here that is still running, and its group. */
export function killAll(): void {
  for (const { pid, group } of running) {
    try {
      process.kill(group ? -pid : pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  running.clear();
}

/** The PIDs of `pid`'s children, from /proc. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether a process with this PID exists (and is not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Whether something accepts connections on the port of 127.0.0.1. */
export async function isListening(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

/**
 * The environment of a bot in HTTP mode on any free port: a config of its own named `name` in
 * `dir` (an SQLite store beside it and nothing else), Slack's Web API at `apiUrl`.
 */
export function botEnv(
  dir: string,
  name: string,
  slack: { apiUrl: string; token: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  const configPath = join(dir, `${name}.yml`);
  writeFileSync(configPath, `state: { sqlite: ${join(dir, `${name}.db`)} }\n`);
  return {
    SESAME_CONFIG: configPath,
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: `${name}-signing-secret`,
    SLACK_APP_TOKEN: '',
    SLACK_API_URL: slack.apiUrl,
    PORT: '0',
    ...extra,
  };
}
