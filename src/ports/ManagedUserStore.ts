/** A database user that Sesame created, keyed by the server it lives on. */
export interface ManagedUser {
  /** RDS resource ID, else `host:port`: integrations on one server share the user. */
  serverKey: string;
  username: string;
  /** The integration through which it was first created (for connecting at cleanup). */
  integration: string;
  slackId: string;
  email?: string;
  createdAt: Date;
  /** When a password was last set (grant, reveal or rotation); never the password itself. */
  passwordSetAt?: Date;
  /** When the last live grant of this user ended. */
  lastRevokedAt?: Date;
  droppedAt?: Date;
}

/** Which managed users to list: those on one server, and dropped ones too when asked. */
export interface ManagedUserFilter {
  serverKey?: string;
  includeDropped?: boolean;
}

/** Dates to change on a managed user: absent keys stay as they are; `null` clears (a dropped user created again). */
export type ManagedUserPatch = { [K in 'passwordSetAt' | 'lastRevokedAt' | 'droppedAt']?: Date | null };

/** The database users Sesame manages, one row per (server, username). */
export interface ManagedUserStore {
  /** Inserts the user or, if known, leaves it as it is. Returns what is stored. */
  upsertManagedUser(user: ManagedUser): Promise<ManagedUser>;
  getManagedUser(serverKey: string, username: string): Promise<ManagedUser | undefined>;
  listManagedUsers(filter?: ManagedUserFilter): Promise<ManagedUser[]>;
  updateManagedUser(serverKey: string, username: string, patch: ManagedUserPatch): Promise<void>;
}
