/**
 * One playground at a time on a machine: a lock file naming the running playground's process
 * and address. A second playground reads it and says where the first one is; a lock left by a
 * process that no longer runs is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_LOCK_FILE = join(tmpdir(), 'sesame-playground.lock');

interface LockContent {
  pid: number;
  address: string;
}

export class PlaygroundRunningError extends Error {
  constructor(readonly holder: LockContent) {
    super(`a playground is already running at ${holder.address} (pid ${holder.pid}). Open that address, or stop it with Ctrl-C first.`);
    this.name = 'PlaygroundRunningError';
  }
}

export interface PlaygroundLock {
  /** Records the address once it is known. */
  update(address: string): void;
  release(): void;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockContent | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockContent>;
    if (typeof parsed.pid === 'number' && typeof parsed.address === 'string') return { pid: parsed.pid, address: parsed.address };
  } catch {
    // Unreadable or half written: treated as stale.
  }
  return undefined;
}

/** Takes the lock at `file` for this process, or throws PlaygroundRunningError. */
export function takeLock(file: string, address: string): PlaygroundLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readLock(file);
      if (holder && isRunning(holder.pid)) throw new PlaygroundRunningError(holder);
      try {
        unlinkSync(file);
      } catch {
        // Another playground took it over first; the next attempt reads its lock.
      }
      continue;
    }
    writeSync(fd, JSON.stringify({ pid: process.pid, address }));
    closeSync(fd);
    let released = false;
    return {
      update(newAddress) {
        if (!released) writeFileSync(file, JSON.stringify({ pid: process.pid, address: newAddress }), { mode: 0o600 });
      },
      release() {
        if (released) return;
        released = true;
        if (readLock(file)?.pid === process.pid) {
          try {
            unlinkSync(file);
          } catch {
            // Already gone.
          }
        }
      },
    };
  }
  throw new Error(`could not take the playground's lock file ${file}; remove it if no playground is running`);
}
