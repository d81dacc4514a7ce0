import { describeError, type Logger } from './logger.ts';

/**
 * How long a stop may take before the process exits anyway, naming what did not finish: inside
 * the 10 s that `docker stop` and Kubernetes give before SIGKILL, so the process says it itself.
 */
export const STOP_TIMEOUT_MS = 8_000;
/**
 * A signal repeated within this long is the same request: Ctrl-C under `npm start` reaches the
 * bot twice, once from the terminal and once forwarded by npm.
 */
const REPEAT_WINDOW_MS = 1_000;
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Something that stops in steps and can say which step it is at. */
export interface Stoppable {
  close(): Promise<void>;
  /** What the stop is waiting for now, in words for the log. */
  pending?(): string;
}

export interface StopOnSignalsOptions {
  logger: Logger;
  timeoutMs?: number;
  /** process.exit unless replaced (tests). */
  exit?: (code: number) => void;
  /** Where the signals come from; the process unless replaced (tests). */
  source?: Pick<NodeJS.Process, 'on' | 'removeListener'>;
}

/** The process's answer to SIGTERM and SIGINT, installed before start-up begins. */
export interface StopOnSignals {
  /** Aborted at the first SIGTERM or SIGINT: start-up gives up where it is. */
  readonly signal: AbortSignal;
  /** Names the start-up step under way, for the log when a stop during start-up times out. */
  stage(what: string): void;
  /**
   * What a stop closes: the running bot once start-up is over, or nothing once an aborted
   * start-up has cleaned up after itself. A stop requested earlier proceeds now.
   */
  stopWith(target: Stoppable): void;
}

/**
 * Installs SIGTERM and SIGINT handlers. The first signal aborts start-up or closes the running
 * bot (work in flight finishes, pools and the store close), then the process exits 0. A stop that
 * takes longer than `timeoutMs` exits 1, logging what did not finish. A second signal more than
 * a second after the first exits 1 at once.
 */
export function stopOnSignals(options: StopOnSignalsOptions): StopOnSignals {
  const { logger, timeoutMs = STOP_TIMEOUT_MS, exit = (code) => process.exit(code), source = process } = options;
  const controller = new AbortController();
  let stage = 'starting';
  let target: Stoppable | undefined;
  let requestedAt: number | undefined;
  let closing = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (code: number) => {
    clearTimeout(timer);
    exit(code);
  };
  const unfinished = () => (target ? (target.pending?.() ?? 'closing') : `start-up (${stage})`);

  const close = (what: Stoppable) => {
    if (closing) return;
    closing = true;
    what.close().then(
      () => {
        logger.info('stopped');
        finish(0);
      },
      (err) => {
        logger.error({ err: describeError(err) }, 'stopping failed');
        finish(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (requestedAt !== undefined) {
      if (now - requestedAt < REPEAT_WINDOW_MS) return;
      logger.warn({ signal, unfinished: unfinished() }, `${signal} again: exiting now, before ${unfinished()} finished`);
      finish(1);
      return;
    }
    requestedAt = now;
    logger.info({ signal, timeoutMs }, 'stopping: finishing work in flight');
    timer = setTimeout(() => {
      logger.error(
        { unfinished: unfinished(), timeoutMs },
        `stopping took longer than ${timeoutMs / 1000} s: exiting before ${unfinished()} finished`,
      );
      exit(1);
    }, timeoutMs);
    controller.abort(new Error(`stopped by ${signal}`));
    if (target) close(target);
  };
  for (const s of SIGNALS) source.on(s, onSignal);
  return {
    signal: controller.signal,
    stage(what) {
      stage = what;
    },
    stopWith(what) {
      target = what;
      if (requestedAt !== undefined) close(what);
    },
  };
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `work`, or a rejection with the signal's reason as soon as it is aborted (the work itself goes on). */
export function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
