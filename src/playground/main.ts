/**
 * `npm run playground` (and `npm start` with no config file and no Slack token): starts the
 * playground on http://127.0.0.1:$PORT/ (default 3000), prints that address on one line, and on
 * Ctrl-C (or SIGTERM) stops everything, removes its temporary folder and exits 0.
 * `--port N` and `--host H` (loopback only) override the defaults.
 */
import { parseArgs } from 'node:util';
import { describeError } from '../logger.ts';
import { MissingEmbeddedPostgresError } from './database.ts';
import { PlaygroundRunningError } from './lock.ts';
import { DEFAULT_PLAYGROUND_PORT, PlaygroundHostError, runPlayground, type RunningPlayground } from './run.ts';
import { PortInUseError, portArgument } from './server.ts';

const EXPECTED = [PlaygroundHostError, PortInUseError, PlaygroundRunningError, MissingEmbeddedPostgresError];

/** Runs the playground until a signal; resolves to the exit code. */
export async function playgroundMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let running: RunningPlayground | undefined;
  let stopRequested = false;
  let resolveStopped: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => (resolveStopped = resolve));
  let requestedAt = 0;
  const onSignal = () => {
    // Ctrl-C under `npm start` arrives twice at once (from the terminal, and forwarded by npm):
    // only a second signal a moment later means "exit now".
    if (stopRequested && Date.now() - requestedAt > 1_000) process.exit(1);
    if (stopRequested) return;
    stopRequested = true;
    requestedAt = Date.now();
    if (running)
      running.stop().then(
        () => resolveStopped(0),
        () => resolveStopped(1),
      );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, host: { type: 'string' } } });
    running = await runPlayground({
      port: portArgument(values.port ?? env.PORT, DEFAULT_PLAYGROUND_PORT),
      host: values.host ?? '127.0.0.1',
    });
  } catch (err) {
    const known = EXPECTED.some((kind) => err instanceof kind);
    process.stderr.write(`sesame playground: ${known ? (err as Error).message : describeError(err)}\n`);
    return 2;
  }
  if (stopRequested) {
    await running.stop();
    return 0;
  }
  process.stdout.write(
    `Sesame playground: ${running.address}  (a playground: loopback only, data in ${running.dataDir}, removed on Ctrl-C)\n`,
  );
  return stopped;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  playgroundMain(process.argv.slice(2)).then((code) => process.exit(code));
}
