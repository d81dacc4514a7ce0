import type { SessionRecordKind } from './SessionRecords.ts';

/** One event of a managed user as a server's log has it. */
export interface LoggedSessionEvent {
  /** Where it was read (`<instance>/<file>@<offset>`): the same line read twice has the same ID. */
  id: string;
  at: Date;
  user: string;
  database?: string;
  kind: SessionRecordKind;
  sessionId: string;
  commandTag?: string;
  statement?: string;
}

/** What one read of an integration's logs brought, and how far its logs are now read. */
export interface SessionLogRead {
  events: LoggedSessionEvent[];
  /** Watermarks to store with the events (key → value), so the next read starts where this one ended. */
  marks: Record<string, string>;
  /** Instances or files that could not be read this time: read again next time. */
  errors: string[];
}

/** The session logs of integrations with `audit: true` (RDS log files). */
export interface SessionLogs {
  /** True when this integration's logs are read. */
  audits(integration: string): boolean;
  /**
   * New events of these database users since the watermarks `marks` gives; on a first read,
   * logs last written before `since` are skipped.
   */
  read(
    integration: string,
    input: { users: string[]; since?: Date; marks: (key: string) => Promise<string | undefined> },
  ): Promise<SessionLogRead>;
}

/** What a person did with a grant, from the server's session logs. */
export interface SessionCounts {
  sessions: number;
  statements: number;
}

/** A grant's counts and its first statements, for the thread at its end. */
export interface SessionSummary extends SessionCounts {
  first: { at: Date; database?: string; commandTag?: string; statement: string }[];
}

/** Session logs of integrations with `audit: true`, summed up per grant. */
export interface SessionAudit {
  /**
   * Reads what is new in the grant's integration's logs, then sums up what the grant's user did
   * under it; undefined when the integration keeps no session audit.
   */
  countsFor(request: import('../domain/request.ts').AccessRequest): Promise<SessionSummary | undefined>;
}
