/**
 * The first key of Sesame's two-key advisory locks on the state database, by what they guard.
 * (The migrations' lock takes the one-key form, which PostgreSQL keeps apart from these.)
 */
export const LOCK_CLASS = { person: 0x5345_0001, leader: 0x5345_0002 } as const;

/** Who this replica is to the others: a name unique per process and the hash of its config. */
export interface ReplicaIdentity {
  replicaId: string;
  configHash: string;
}
