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
import type { AwsClients } from './AwsClients.ts';
import { awsFailure } from './awsErrors.ts';
import type { RdsResolver } from './RdsResolver.ts';
import { parseRdsPostgresLog, type SessionEvent } from './sessionLog.ts';

export interface RdsLogIngestorOptions {
  clients: AwsClients;
  resolver: RdsResolver;
  logger?: Logger;
  /** Lines asked for per DownloadDBLogFilePortion; RDS gives at most 10,000 (and 1 MB). */
  portionLines?: number;
}

export interface IngestOptions {
  /** The database users Sesame manages on this server. */
  managedUsers: Iterable<string>;
  /** On the first run for an instance: skip log files last written before this (e.g. the oldest live grant). */
  since?: Date;
}

export interface IngestResult {
  /** New events of managed users, oldest first. */
  events: SessionEvent[];
  /** Instances or files that could not be read this time; they are read again next time. */
  errors: string[];
}

/** How far one log file has been read. */
interface FileMark {
  /** The marker to continue from, as DownloadDBLogFilePortion returned it. */
  marker: string;
  /** Bytes read so far: the offset of the next entry, for event ids. */
  offset: number;
  lastWritten: number;
}

interface InstanceMark {
  /** The newest LastWritten seen: files not written since are not listed again. */
  lastWritten?: number;
  files: Map<string, FileMark>;
}

/** A file last written this long before the newest one will not be written again (RDS rotates hourly). */
const FORGET_FILES_AFTER_MS = 24 * 60 * 60_000;

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
    for (const instance of instances) {
      await this.#locks.run(`${resource.region}/${instance}`, async () => {
        try {
          events.push(...(await this.#ingestInstance(resource.region, instance, users, options.since, errors)));
        } catch (err) {
          errors.push(isSesameError(err) ? err.message : describeError(err));
        }
      });
    }
    for (const error of errors) this.#options.logger?.warn({ integration: integration.name, error }, 'session log ingestion incomplete');
    events.sort((a, b) => a.at.getTime() - b.at.getTime());
    return { events, errors };
  }

  async #ingestInstance(
    region: string,
    instance: string,
    users: string[],
    since: Date | undefined,
    errors: string[],
  ): Promise<SessionEvent[]> {
    const key = `${region}/${instance}`;
    const mark = this.#marks.get(key) ?? { files: new Map<string, FileMark>() };
    this.#marks.set(key, mark);
    const writtenSince = mark.lastWritten ?? since?.getTime();
    const files = await this.#listFiles(region, instance, writtenSince);
    const events: SessionEvent[] = [];
    let newest = writtenSince ?? 0;
    let oldestFailed = Number.POSITIVE_INFINITY;
    for (const file of files) {
      const name = file.LogFileName!;
      const lastWritten = file.LastWritten ?? 0;
      let fileMark = mark.files.get(name);
      // A file smaller than what was read is a new file under an old name: read it from the start.
      if (!fileMark || (file.Size !== undefined && file.Size < fileMark.offset)) fileMark = { marker: '0', offset: 0, lastWritten };
      if (file.Size === undefined || file.Size !== fileMark.offset) {
        try {
          const { text, marker } = await this.#download(region, instance, name, fileMark.marker);
          events.push(...parseRdsPostgresLog(text, { managedUsers: users, source: `${instance}/${name}`, offset: fileMark.offset }));
          fileMark = { marker, offset: fileMark.offset + Buffer.byteLength(text, 'utf8'), lastWritten };
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

  /** The file's text from `marker` to its current end, and the marker to continue from later. */
  async #download(region: string, instance: string, name: string, from: string): Promise<{ text: string; marker: string }> {
    const client = this.#options.clients.rds(region);
    const chunks: string[] = [];
    let marker = from;
    for (let portion = 0; portion < MAX_PORTIONS_PER_FILE; portion += 1) {
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
      const next = out.Marker ?? marker;
      if (!out.AdditionalDataPending || (next === marker && data === '')) return { text: chunks.join(''), marker: next };
      marker = next;
    }
    return { text: chunks.join(''), marker };
  }
}
