/** What attribution needs of a logged event: where it was read, when, and whose user. */
export interface LoggedEvent {
  id: string;
  at: Date;
  user: string;
}

/** A grant as far as attributing session events goes: whose user, and when it was live. */
export interface GrantWindow {
  id: string;
  dbUser?: string;
  grantedAt?: Date;
  expiresAt?: Date;
  endedAt?: Date;
}

/** Log timestamps have whole seconds: a grant counts from the start of its second. */
function windowStart(grant: GrantWindow): number {
  return Math.floor(grant.grantedAt!.getTime() / 1000) * 1000;
}

/**
 * Attributes each event (once per id) to the grant of its user whose window
 * [grantedAt, endedAt or else expiresAt] contains the event's time. Where a person's grants
 * overlap, the most recently granted one gets the event. Events outside every window (before
 * the first grant, between grants, users of other servers) are returned as unattributed.
 */
export function attributeSessionEvents<E extends LoggedEvent>(
  events: readonly E[],
  grants: readonly GrantWindow[],
): { byGrant: Map<string, E[]>; unattributed: E[] } {
  const live = grants
    .filter((g) => g.dbUser !== undefined && g.grantedAt !== undefined)
    .sort((a, b) => b.grantedAt!.getTime() - a.grantedAt!.getTime());
  const byGrant = new Map<string, E[]>();
  const unattributed: E[] = [];
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const at = event.at.getTime();
    const grant = live.find((g) => {
      const end = (g.endedAt ?? g.expiresAt)?.getTime() ?? Number.POSITIVE_INFINITY;
      return g.dbUser === event.user && at >= windowStart(g) && at <= end;
    });
    if (!grant) {
      unattributed.push(event);
      continue;
    }
    const list = byGrant.get(grant.id) ?? [];
    list.push(event);
    byGrant.set(grant.id, list);
  }
  return { byGrant, unattributed };
}
