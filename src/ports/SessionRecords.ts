/** What a managed user did on a server, as its logs say: one line of a session's story. */
export type SessionRecordKind = 'connect' | 'disconnect' | 'statement';

/**
 * One logged event of a managed user, tied to the request whose grant it happened under: the
 * answer to "what did this person run under request R?" (PRODUCT.md §8).
 */
export interface SessionRecord {
  /** Where it was read: `<integration>/<instance>/<log file>@<byte offset>`; the same line read twice has the same ID. */
  id: string;
  requestId: string;
  integration: string;
  dbUser: string;
  /** The Slack ID of the person the grant was for. */
  requester: string;
  at: Date;
  database?: string;
  /** PostgreSQL's session ID (`%c`), or one derived from the backend when the log lacks it. */
  sessionId: string;
  kind: SessionRecordKind;
  /** For a statement: the command tag (`SELECT`, `ALTER ROLE`). */
  commandTag?: string;
  /** For a statement: its text as logged, secrets redacted. */
  statement?: string;
}

/** A stored record and its place in the order records were stored (for streaming them in order). */
export type StoredSessionRecord = SessionRecord & { seq: number };

export interface SessionRecordFilter {
  requestId?: string;
  /** The person's Slack ID. */
  requester?: string;
  /** Logged at or after. */
  since?: Date;
  /** Stored after this sequence number. */
  afterSeq?: number;
  limit?: number;
}

/**
 * Session records per request, and the watermarks that say how far each log was read. Records
 * and the watermarks that led to them are written in one transaction, so a restart neither
 * reads a log again from its start nor loses a line.
 */
export interface SessionRecordStore {
  /**
   * Stores the records not stored yet (by ID; one already stored is kept as it is) and sets the
   * watermarks, in one transaction. Answers how many records were new.
   */
  recordSessions(records: readonly SessionRecord[], watermarks: Readonly<Record<string, string>>): Promise<number>;
  /** Records in the order they were stored (`seq`), oldest first. */
  listSessionRecords(filter: SessionRecordFilter): Promise<StoredSessionRecord[]>;
  watermark(key: string): Promise<string | undefined>;
  setWatermark(key: string, value: string): Promise<void>;
}
