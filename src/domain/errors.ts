/**
 * The one error vocabulary of Sesame. Every error a service or adapter raises on purpose is one
 * of these, with a stable `code`; only the edge (CLI, Slack) turns a code into words for a person.
 * Messages are written for the person who has to act on them: they say what was wrong and what to
 * do next, and never contain a secret.
 */
export type ErrorCode = 'input' | 'not_allowed' | 'not_found' | 'conflict' | 'target_unavailable' | 'connector_setup' | 'config';

export abstract class SesameError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A part of a request a person fills in, for showing an error beside it. */
export type RequestField = 'integration' | 'database' | 'schema' | 'table' | 'permission' | 'duration' | 'reason';

/** What a person typed or chose is malformed or out of range. Nothing was changed. */
export class InputError extends SesameError {
  readonly code = 'input' as const;
  /** The part of the request the error is about, where there is one. */
  readonly field?: RequestField;
  constructor(message: string, options?: { cause?: unknown; field?: RequestField }) {
    super(message, options);
    if (options?.field) this.field = options.field;
  }
}

/** The person may not do this (not a requester of any flow, not an approver, not the owner). */
export class NotAllowedError extends SesameError {
  readonly code = 'not_allowed' as const;
}

/** A request, integration, database object or role that does not exist. */
export class NotFoundError extends SesameError {
  readonly code = 'not_found' as const;
}

/**
 * The words for a name that matches no integration, with the names that do so the person can
 * pick one. Every place that looks an integration up by name says it this way.
 */
export function noIntegrationNamed(name: string, known: readonly string[]): string {
  return `There is no integration named "${name}". Known integrations: ${known.join(', ') || 'none'}.`;
}

/** Looking up an integration by a name that matches none. */
export function integrationNotFound(name: string, known: readonly string[]): NotFoundError {
  return new NotFoundError(noIntegrationNamed(name, known));
}

/**
 * The state does not allow this now: the request was already decided, a role of that name exists
 * and Sesame did not create it, and so on.
 */
export class ConflictError extends SesameError {
  readonly code = 'conflict' as const;
}

/** The target database cannot be reached or refused the connector's login. Retry later. */
export class TargetUnavailableError extends SesameError {
  readonly code = 'target_unavailable' as const;
}

/**
 * The connector lacks a privilege that only a database admin can give it. `sql` holds the exact
 * statements the admin must run (as the RDS master user or another role that may grant them).
 */
export class ConnectorSetupError extends SesameError {
  readonly code = 'connector_setup' as const;
  constructor(
    message: string,
    readonly sql: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`${message} Ask a database admin to run: ${sql.join(' ')}`, options);
  }
}

/** One problem in the config file, with its path (`integrations[1].sslMode`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** The config file has problems; every one of them is listed. */
export class ConfigError extends SesameError {
  readonly code = 'config' as const;
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      `The config has ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n` +
        issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n'),
    );
  }
}

export function isSesameError(err: unknown): err is SesameError {
  return err instanceof SesameError;
}
