import type { AccessRequest } from '../domain/request.ts';

/** What a person did with a grant, from the server's session logs. */
export interface SessionCounts {
  sessions: number;
  statements: number;
}

/** Session logs of integrations with `audit: true`, counted per grant. */
export interface SessionAudit {
  /**
   * The sessions and statements of the grant's database user between its start and its end;
   * undefined when the integration keeps no session audit.
   */
  countsFor(request: AccessRequest): Promise<SessionCounts | undefined>;
}
