/**
 * The connector's credential and where a server is, as a target database needs them beyond its
 * integration's config: from the config itself, or from a cloud (Secrets Manager, IAM, RDS).
 */

/** A credential that stops working `lifetimeMs` after it is given (an IAM token). */
export interface ExpiringCredential {
  password: string;
  lifetimeMs: number;
}

/**
 * Gives the connector's password, or an IAM token with its lifetime. With `fresh`, it must not
 * answer from a cache: it is asked that way once after the server refused the login, so a
 * rotated secret is picked up.
 */
export type CredentialProvider = (options?: { fresh?: boolean }) => Promise<string | ExpiringCredential>;

/** The RDS resource IAM database login is granted on. */
export type { IamResource } from './TargetDatabase.ts';

/**
 * What a source outside the config knows about each integration's server; every answer is
 * optional, and `undefined` leaves it to the config. `I` is the integration's description.
 */
export interface ServerLocator<I> {
  /** The connector's credential, when this source holds it (a secret, an IAM token). */
  credentials?: (integration: I) => CredentialProvider | undefined;
  /** The server identity managed users are keyed by (an RDS resource ID). */
  serverKey?: (integration: I) => string | (() => Promise<string>) | undefined;
  /** Where the server is reached, when the config does not say. */
  endpoint?: (integration: I) => (() => Promise<{ host: string; port: number }>) | undefined;
  /** With `userAuth: iam`: the RDS resource people's IAM logins name. */
  iamResource?: (integration: I) => (() => Promise<import('./TargetDatabase.ts').IamResource>) | undefined;
}
