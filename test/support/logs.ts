import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.ts';

/** A logger whose JSON lines are kept in `lines`, so a test can read them (and prove no secret is there). */
export function capturingLogger(level = 'debug', lines: string[] = []): { logger: Logger; lines: string[] } {
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}
