import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError, ConflictError } from '../../domain/errors.ts';
import { describeError, type Logger } from '../../logger.ts';
import { systemClock, type Clock } from '../../ports/Clock.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './migrations/index.ts';

/** How long a statement waits for another connection's write lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

/** Options of `SqliteStateStore.open`. */
export interface SqliteStateStoreOptions {
  /** Stamps `schema_migrations.applied_at`; the system clock by default. */
  clock?: Clock;
  /** Told when the state file's directory is open to other OS users. */
  logger?: Logger;
}

/** The state file and SQLite's files beside it: read and written by Sesame's own OS user only. */
const STATE_FILE_MODE = 0o600;
const STATE_DIR_MODE = 0o700;
const SQLITE_FILE_SUFFIXES = ['', '-wal', '-shm', '-journal'];

/**
 * Keeps the state file to Sesame's own OS user (PRODUCT.md §7), whatever the umask, before
 * SQLite opens it:
 * - the directories it creates for the file are 0700. A directory that already exists is left
 *   as it is: it may be shared (a volume, /tmp, the working directory), and changing it could
 *   break whatever else uses it. If other users may list it, a warning says so; the files' own
 *   modes keep their contents private either way.
 * - the database file is created 0600, and one an older Sesame left wider is narrowed; so are the
 *   -wal and -shm files that exist. SQLite creates those with the database file's mode.
 */
function protectStateFile(path: string, logger: Logger | undefined): void {
  const dir = dirname(path);
  const firstCreated = mkdirSync(dir, { recursive: true, mode: STATE_DIR_MODE });
  if (firstCreated !== undefined) {
    for (let d = dir; ; d = dirname(d)) {
      chmodSync(d, STATE_DIR_MODE);
      if (d === firstCreated || d === dirname(d)) break;
    }
  } else {
    const mode = statSync(dir).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      logger?.warn(
        { directory: dir, mode: mode.toString(8) },
        "the state file's directory can be listed by other OS users; run chmod 700 on it so that only Sesame's user can",
      );
    }
  }
  if (!existsSync(path)) closeSync(openSync(path, 'a', STATE_FILE_MODE));
  for (const suffix of SQLITE_FILE_SUFFIXES) {
    const file = `${path}${suffix}`;
    if (!existsSync(file) || (statSync(file).mode & 0o777) === STATE_FILE_MODE) continue;
    try {
      chmodSync(file, STATE_FILE_MODE);
    } catch (err) {
      logger?.warn({ file, err: describeError(err) }, 'the state file could not be made readable by its owner only');
    }
  }
}

/**
 * Opens (creating if needed, with its parent directory) the database at `path`, or a private
 * in-memory one for `:memory:`, and applies any migrations it has not seen yet. The file and
 * the directories created for it are readable by this OS user only.
 */
export function openDatabase(path: string, options: SqliteStateStoreOptions): Database.Database {
  const onDisk = path !== ':memory:' && path !== '';
  if (onDisk) {
    try {
      protectStateFile(resolve(path), options.logger);
    } catch (err) {
      throw unwritableState(resolve(path), err);
    }
  }
  const db = openOrExplain(path, onDisk);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    try {
      db.pragma('journal_mode = WAL');
    } catch (err) {
      // WAL mode creates -wal and -shm files beside the database: its folder must be writable.
      throw onDisk ? unwritableState(resolve(path), err) : err;
    }
    // In WAL mode NORMAL loses no commit when Sesame itself crashes; only a power loss or an OS
    // crash may roll back the last few. Those are repaired like any interruption: an `approved`
    // or `granting` request is granted again at start (idempotently), a `granted` one past its
    // expiry is revoked by the sweep, and reconciliation removes memberships no recorded grant
    // stands behind, while VALID UNTIL keeps logins out. FULL waited for the disk on every
    // commit, a fifth of the work between an approval and the grant.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, path, options.clock ?? systemClock);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function openOrExplain(path: string, onDisk: boolean): Database.Database {
  try {
    return new Database(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    throw onDisk ? unwritableState(resolve(path), err) : err;
  }
}

/** File-system errors that mean Sesame's OS user cannot create or write the state file there. */
const UNWRITABLE_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'SQLITE_CANTOPEN', 'SQLITE_READONLY']);

/**
 * The error for a state file that cannot be created or written: it names the file, the config
 * key and what to do, which a bare `EACCES … mkdir` does not. Other errors pass unchanged.
 */
function unwritableState(path: string, err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !UNWRITABLE_CODES.has(code)) return err;
  const user = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
  return new ConfigError([
    {
      path: 'state.sqlite',
      message:
        `cannot create or write the state file ${path}: ${describeError(err)}. ` +
        `Sesame's OS user${user} must be able to create files in ${dirname(path)}: point state.sqlite in the config ` +
        '(or $SESAME_STATE, which takes precedence) at a folder that user owns, such as a volume mounted at ' +
        '/var/lib/sesame, or give the folder to that user (chown).',
    },
  ]);
}

/**
 * Applies the migrations the file has not seen, each in its own immediate transaction that first
 * checks again whether another process applied it meanwhile, so two processes opening one new file
 * at once both succeed.
 */
function migrate(db: Database.Database, path: string, clock: Clock): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const currentVersion = db.prepare('SELECT coalesce(max(version), 0) FROM schema_migrations').pluck();
  const known = currentVersion.get() as number;
  if (known > LATEST_SCHEMA_VERSION) {
    throw new ConflictError(
      `The state store ${path} has schema version ${known}, written by a newer Sesame; this one knows versions up to ${LATEST_SCHEMA_VERSION}. Run the newer Sesame, or point state.sqlite at another file.`,
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applyOne = db.transaction((migration: Migration) => {
    if ((currentVersion.get() as number) >= migration.version) return;
    db.exec(migration.sql);
    record.run(migration.version, migration.name, clock.now().getTime());
  });
  for (const migration of MIGRATIONS) {
    if (migration.version > known) applyOne.immediate(migration);
  }
}
