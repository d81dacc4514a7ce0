import { attributeSessionEvents } from '../domain/sessionAttribution.ts';
import type { AccessRequest } from '../domain/request.ts';
import { describeError, type Logger } from '../logger.ts';
import type { Clock } from '../ports/Clock.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { SessionAudit, SessionLogs, SessionSummary } from '../ports/SessionAudit.ts';
import type { SessionRecord, SessionRecordStore } from '../ports/SessionRecords.ts';
import type { IntegrationRegistry } from './IntegrationRegistry.ts';

/** Grants that ended longer ago than this no longer take events: their users' later lines are someone else's story. */
const ENDED_GRANTS_READ_FOR_MS = 24 * 60 * 60_000;

/** Statements shown in the request's thread when its grant ends; `sesame audit --request` has them all. */
export const FIRST_STATEMENTS_SHOWN = 5;

/** The grant statuses whose users' events are read: live ones, and ones that ended. */
const READ_STATUSES = ['granted', 'revoking', 'revoked', 'expired'] as const;

export interface SessionAuditDeps {
  requests: Pick<RequestStore, 'listRequests'>;
  sessions: SessionRecordStore;
  logs: SessionLogs;
  integrations: Pick<IntegrationRegistry, 'list'>;
  clock: Clock;
  logger: Logger;
}

/**
 * What managed users did under each grant (PRODUCT.md §8, README "Session audit"). On the
 * `discover` schedule and when a grant ends, the new lines of each `audit: true` integration's
 * logs are read from where the last read stopped, tied to the grant they happened under (the
 * user, and the time within the grant), and stored per request with the watermarks in one
 * write: a restart neither reads a log again nor loses a line, and a line read twice is kept
 * once.
 */
export class SessionAuditService implements SessionAudit {
  /** Per integration: the read running now, and the one that waits for it. */
  readonly #current = new Map<string, Promise<number>>();
  readonly #next = new Map<string, Promise<number>>();

  constructor(private readonly deps: SessionAuditDeps) {}

  /** Reads every audited integration's logs; one that fails is logged and read again next time. */
  async ingestAll(): Promise<{ integrations: number; stored: number }> {
    let stored = 0;
    let integrations = 0;
    for (const integration of this.deps.integrations.list()) {
      if (!this.deps.logs.audits(integration.name)) continue;
      integrations += 1;
      try {
        stored += await this.ingest(integration.name);
      } catch (err) {
        this.deps.logger.warn({ integration: integration.name, err: describeError(err) }, 'session logs could not be read');
      }
    }
    return { integrations, stored };
  }

  /**
   * Reads what is new in one integration's logs and stores it per request; answers how many
   * records were new. Reads of one integration never overlap, and callers that arrive while one
   * runs share the single read that follows it (a sweep ending many grants reads once more, not
   * once per grant).
   */
  ingest(integration: string): Promise<number> {
    const waiting = this.#next.get(integration);
    if (waiting) return waiting;
    const before = this.#current.get(integration) ?? Promise.resolve(0);
    const read = before
      .catch(() => 0)
      .then(() => {
        this.#next.delete(integration);
        return this.#read(integration);
      });
    this.#next.set(integration, read);
    const current = read.finally(() => {
      if (this.#current.get(integration) === current) this.#current.delete(integration);
    });
    current.catch(() => undefined);
    this.#current.set(integration, current);
    return read;
  }

  async #read(integration: string): Promise<number> {
    const grants = await this.grantsOf(integration);
    if (grants.length === 0) return 0;
    const users = [...new Set(grants.map((g) => g.dbUser!))];
    const since = new Date(Math.min(...grants.map((g) => g.grantedAt!.getTime())));
    const read = await this.deps.logs.read(integration, { users, since, marks: (key) => this.deps.sessions.watermark(key) });
    for (const error of read.errors)
      this.deps.logger.warn({ integration, error }, 'some session logs could not be read; they are read again next time');
    const byId = new Map(grants.map((g) => [g.id, g]));
    const records: SessionRecord[] = [];
    for (const [requestId, events] of attributeSessionEvents(read.events, grants).byGrant) {
      const grant = byId.get(requestId)!;
      for (const e of events) {
        records.push({
          id: `${integration}/${e.id}`,
          requestId,
          integration,
          dbUser: e.user,
          requester: grant.requester.slackId,
          at: e.at,
          ...(e.database ? { database: e.database } : {}),
          sessionId: e.sessionId,
          kind: e.kind,
          ...(e.commandTag ? { commandTag: e.commandTag } : {}),
          ...(e.statement !== undefined ? { statement: e.statement } : {}),
        });
      }
    }
    return this.deps.sessions.recordSessions(records, read.marks);
  }

  /** Reads the grant's integration's new lines, then sums up the grant: its sessions, statements, and the first of them. */
  async countsFor(request: AccessRequest): Promise<SessionSummary | undefined> {
    const integration = request.target.integration;
    if (!this.deps.logs.audits(integration)) return undefined;
    await this.ingest(integration);
    const records = await this.deps.sessions.listSessionRecords({ requestId: request.id });
    const statements = records.filter((r) => r.kind === 'statement');
    return {
      sessions: new Set(records.filter((r) => r.kind === 'connect').map((r) => r.sessionId)).size,
      statements: statements.length,
      first: statements.slice(0, FIRST_STATEMENTS_SHOWN).map((r) => ({
        at: r.at,
        statement: r.statement ?? '',
        ...(r.database ? { database: r.database } : {}),
        ...(r.commandTag ? { commandTag: r.commandTag } : {}),
      })),
    };
  }

  /** The grants on this integration whose users' lines are read now: live, or ended within a day. */
  private async grantsOf(integration: string): Promise<AccessRequest[]> {
    const now = this.deps.clock.now().getTime();
    const all = await this.deps.requests.listRequests({ integration, statuses: READ_STATUSES });
    return all.filter(
      (r) => r.dbUser !== undefined && r.grantedAt !== undefined && (!r.endedAt || now - r.endedAt.getTime() < ENDED_GRANTS_READ_FOR_MS),
    );
  }
}
