import {
  DownloadDBLogFilePortionCommand,
  paginateDescribeDBLogFiles,
  type DescribeDBLogFilesDetails,
  type DownloadDBLogFilePortionCommandOutput,
} from '@aws-sdk/client-rds';
import type { RdsIntegrationConfig } from '../../config/schema.ts';
import { isSesameError } from '../../domain/errors.ts';
import { KeyedMutex } from '../../lib/KeyedMutex.ts';
import { describeError, type Logger } from '../../logger.ts';
import { systemClock, type Clock } from '../../ports/Clock.ts';
import type { AwsClients } from './AwsClients.ts';
import { awsFailure } from './awsErrors.ts';
import type { RdsResolver } from './RdsResolver.ts';
import { lastRecordStart } from './logFormats/lastRecord.ts';
import { detectLogFormat, parseRdsPostgresLog, type SessionEvent } from './sessionLog.ts';

export interface RdsLogIngestorOptions {
  clients: AwsClients;
  resolver: RdsResolver;
  logger?: Logger;
  /** Lines asked for per DownloadDBLogFilePortion; RDS gives at most 10,000 (and 1 MB). */
  portionLines?: number;
  /** Tells a file still written from one rotated long ago; the system clock by default. */
  clock?: Clock;
}

export interface IngestOptions {
  /** The database users Sesame manages on this server. */
  managedUsers: Iterable<string>;
  /** On the first run for an instance: skip log files last written before this (e.g. the oldest live grant). */
  since?: Date;
  /**
   * How far each instance's files were read, as an earlier result's `marks` said (kept in the
   * state store). Without it, this object remembers them in memory.
   */
  marks?: (key: string) => Promise<string | undefined>;
  /** The server's `log_timezone`, for zone abbreviations that are ambiguous. */
  timeZone?: string;
}

export interface IngestResult {
  /** New events of managed users, oldest first. */
  events: SessionEvent[];
  /** Instances or files that could not be read this time; they are read again next time. */
  errors: string[];
  /** How far each instance's files are now read (`rds-logs:<region>/<instance>` → JSON), to keep with the events. */
  marks: Record<string, string>;
}

/** How far one log file has been read. */
interface FileMark {
  /** The marker to continue from, as DownloadDBLogFilePortion returned it. */
  marker: string;
  /** The byte offset `marker` stands for. */
  offset: number;
  /**
   * Bytes whose records are read: from here on, records are read next time (the current file's
   * last record may not be whole yet). Absent: `offset`.
   */
  parsedUntil?: number;
  /** Bytes downloaded so far: nothing is downloaded while the file's size is still this. */
  readUntil?: number;
  lastWritten: number;
}

interface InstanceMark {
  /** The newest LastWritten seen: files not written since are not listed again. */
  lastWritten?: number;
  files: Map<string, FileMark>;
}

/** A file last written this long before the newest one will not be written again (RDS rotates hourly). */
const FORGET_FILES_AFTER_MS = 24 * 60 * 60_000;

/** A file not written for this long is no longer the one PostgreSQL writes to: its last record is whole. */
const ROTATED_AFTER_MS = 2 * 60 * 60_000;

/** The number of characters at the start of `text` that make up `byteCount` UTF-8 bytes. */
function charsIn(text: string, byteCount: number): number {
  if (byteCount <= 0) return 0;
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    if (bytes >= byteCount) break;
    bytes += Buffer.byteLength(ch, 'utf8');
    i += ch.length;
  }
  return i;
}

/** A portion that neither moves the marker nor brings data would loop forever. */
const MAX_PORTIONS_PER_FILE = 100_000;

/**
 * Reads an RDS integration's PostgreSQL log files (every member instance of a cluster) and
 * returns the session events of managed users that are new since the last call. How far each
 * file was read is kept in memory in this object: a file is read from where the last call
 * stopped, and only advanced once all of it read and parsed, so a failure half way means the
 * same portions are read again next time and yield the same events (same ids).
 *
 * DownloadDBLogFilePortion is looped on `AdditionalDataPending` here: the SDK's paginator
 * ignores that flag and would keep asking.
 */
export class RdsLogIngestor {
  readonly #options: RdsLogIngestorOptions;
  readonly #marks = new Map<string, InstanceMark>();
  readonly #locks = new KeyedMutex();

  constructor(options: RdsLogIngestorOptions) {
    this.#options = options;
  }

  /**
   * New session events of the integration's managed users. Instances and files that cannot be
   * read are reported in `errors` and read again next time; an integration whose instance or
   * cluster cannot be resolved at all is an error (thrown).
   */
  async ingest(integration: RdsIntegrationConfig, options: IngestOptions): Promise<IngestResult> {
    const resource = await this.#options.resolver.resolve(integration);
    const instances = resource.kind === 'cluster' ? resource.members : [resource.identifier];
    const users = [...options.managedUsers];
    const events: SessionEvent[] = [];
    const errors: string[] = [];
    const marks: Record<string, string> = {};
    for (const instance of instances) {
      const key = `rds-logs:${resource.region}/${instance}`;
      await this.#locks.run(key, async () => {
        try {
          const mark = await this.#markOf(key, options);
          events.push(...(await this.#ingestInstance(resource.region, instance, mark, users, options, errors)));
          marks[key] = JSON.stringify({ lastWritten: mark.lastWritten, files: [...mark.files] });
        } catch (err) {
          errors.push(isSesameError(err) ? err.message : describeError(err));
        }
      });
    }
    for (const error of errors) this.#options.logger?.warn({ integration: integration.name, error }, 'session log ingestion incomplete');
    events.sort((a, b) => a.at.getTime() - b.at.getTime());
    return { events, errors, marks };
  }

  /** How far an instance's files were read: from the caller's store, else from this object's memory. */
  async #markOf(key: string, options: IngestOptions): Promise<InstanceMark> {
    if (!options.marks) {
      const known = this.#marks.get(key) ?? { files: new Map<string, FileMark>() };
      this.#marks.set(key, known);
      return known;
    }
    const stored = await options.marks(key);
    if (!stored) return { files: new Map() };
    const parsed = JSON.parse(stored) as { lastWritten?: number; files: [string, FileMark][] };
    return { ...(parsed.lastWritten !== undefined ? { lastWritten: parsed.lastWritten } : {}), files: new Map(parsed.files) };
  }

  async #ingestInstance(
    region: string,
    instance: string,
    mark: InstanceMark,
    users: string[],
    options: IngestOptions,
    errors: string[],
  ): Promise<SessionEvent[]> {
    const writtenSince = mark.lastWritten ?? options.since?.getTime();
    const listed = await this.#listFiles(region, instance, writtenSince);
    // With csvlog (or jsonlog) on, RDS writes every entry twice: to `X` and to `X.csv`. The
    // structured file is read and its stderr twin left alone, so nothing is counted twice.
    const names = new Set(listed.map((f) => f.LogFileName!));
    const files = listed.filter((f) => !names.has(`${f.LogFileName}.csv`) && !names.has(`${f.LogFileName}.json`));
    const events: SessionEvent[] = [];
    let newest = writtenSince ?? 0;
    let oldestFailed = Number.POSITIVE_INFINITY;
    for (const [index, file] of files.entries()) {
      const name = file.LogFileName!;
      const lastWritten = file.LastWritten ?? 0;
      let fileMark = mark.files.get(name);
      // A file smaller than what was read is a new file under an old name: read it from the start.
      if (!fileMark || (file.Size !== undefined && file.Size < (fileMark.readUntil ?? fileMark.offset))) {
        fileMark = { marker: '0', offset: 0, lastWritten };
      }
      // The newest file is still being written: its last record waits for the next read.
      const now = (this.#options.clock ?? systemClock).now().getTime();
      const current = index === files.length - 1 && lastWritten > now - ROTATED_AFTER_MS;
      if (
        file.Size === undefined ||
        file.Size !== (fileMark.readUntil ?? fileMark.offset) ||
        (!current && fileMark.parsedUntil !== fileMark.readUntil)
      ) {
        try {
          const read = await this.#readFile(region, instance, name, fileMark, users, options, current);
          events.push(...read.events);
          fileMark = { ...read.mark, lastWritten };
        } catch (err) {
          errors.push(isSesameError(err) ? err.message : describeError(err));
          oldestFailed = Math.min(oldestFailed, lastWritten);
          continue;
        }
      }
      mark.files.set(name, { ...fileMark, lastWritten });
      newest = Math.max(newest, lastWritten);
    }
    // A file that failed must be listed again next time, so the watermark stays at or before it.
    mark.lastWritten = Math.min(newest, oldestFailed);
    for (const [name, f] of mark.files) if (f.lastWritten < newest - FORGET_FILES_AFTER_MS) mark.files.delete(name);
    return events;
  }

  /**
   * Downloads a file from its mark and reads the records not read yet; the current file's last
   * record is left for next time, and the new mark points at the portion it starts in, so it is
   * downloaded again then (the log text itself is never kept: it may hold secrets).
   */
  async #readFile(
    region: string,
    instance: string,
    name: string,
    mark: FileMark,
    users: string[],
    options: IngestOptions,
    current: boolean,
  ) {
    const { text, marker, portions } = await this.#download(region, instance, name, mark.marker);
    const bytes = (end: number) => Buffer.byteLength(text.slice(0, end), 'utf8');
    const skip = charsIn(text, (mark.parsedUntil ?? mark.offset) - mark.offset);
    const source = `${instance}/${name}`;
    const format = detectLogFormat(text, source);
    const end = current ? Math.max(skip, lastRecordStart(text, format)) : text.length;
    const skipped = { unknownTimeZone: 0 };
    const parseOptions = { managedUsers: users, source, offset: mark.offset + bytes(skip), skipped, format };
    const events = parseRdsPostgresLog(
      text.slice(skip, end),
      options.timeZone ? { ...parseOptions, timeZone: options.timeZone } : parseOptions,
    );
    if (skipped.unknownTimeZone > 0) {
      this.#options.logger?.warn(
        { instance, file: name, lines: skipped.unknownTimeZone },
        'session log lines skipped: their time zone abbreviation is unknown; set log_timezone to UTC or a zone PostgreSQL abbreviates unambiguously',
      );
    }
    const readUntil = mark.offset + bytes(text.length);
    if (end === text.length) return { events, mark: { marker, offset: readUntil, parsedUntil: readUntil, readUntil } };
    // Continue from the portion the unread record starts in.
    const from = portions.filter((p) => p.at <= end).at(-1) ?? { marker: mark.marker, at: 0 };
    return {
      events,
      mark: { marker: from.marker, offset: mark.offset + bytes(from.at), parsedUntil: mark.offset + bytes(end), readUntil },
    };
  }

  async #listFiles(region: string, instance: string, writtenSince: number | undefined): Promise<DescribeDBLogFilesDetails[]> {
    const files: DescribeDBLogFilesDetails[] = [];
    try {
      for await (const page of paginateDescribeDBLogFiles(
        { client: this.#options.clients.rds(region) },
        { DBInstanceIdentifier: instance, ...(writtenSince !== undefined ? { FileLastWritten: writtenSince } : {}) },
      )) {
        files.push(...(page.DescribeDBLogFiles ?? []).filter((f) => f.LogFileName));
      }
    } catch (err) {
      throw awsFailure(err, { doing: `list the log files of ${instance}`, action: 'rds:DescribeDBLogFiles', region });
    }
    // Oldest first, so the newest LastWritten is recorded last.
    return files.sort((a, b) => (a.LastWritten ?? 0) - (b.LastWritten ?? 0) || (a.LogFileName! < b.LogFileName! ? -1 : 1));
  }

  /**
   * The file's text from `marker` to its current end, the marker to continue from later, and
   * where in the text each portion began (with the marker that asks for it).
   */
  async #download(
    region: string,
    instance: string,
    name: string,
    from: string,
  ): Promise<{ text: string; marker: string; portions: { marker: string; at: number }[] }> {
    const client = this.#options.clients.rds(region);
    const chunks: string[] = [];
    const portions: { marker: string; at: number }[] = [];
    let length = 0;
    let marker = from;
    for (let portion = 0; portion < MAX_PORTIONS_PER_FILE; portion += 1) {
      portions.push({ marker, at: length });
      let out: DownloadDBLogFilePortionCommandOutput;
      try {
        out = await client.send(
          new DownloadDBLogFilePortionCommand({
            DBInstanceIdentifier: instance,
            LogFileName: name,
            Marker: marker,
            NumberOfLines: this.#options.portionLines ?? 10_000,
          }),
        );
      } catch (err) {
        throw awsFailure(err, { doing: `download the log file ${name} of ${instance}`, action: 'rds:DownloadDBLogFilePortion', region });
      }
      const data = out.LogFileData ?? '';
      chunks.push(data);
      length += data.length;
      const next = out.Marker ?? marker;
      if (!out.AdditionalDataPending || (next === marker && data === '')) return { text: chunks.join(''), marker: next, portions };
      marker = next;
    }
    return { text: chunks.join(''), marker, portions };
  }
}
