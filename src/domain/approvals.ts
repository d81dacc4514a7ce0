/**
 * When approvals complete a request (PRODUCT.md §3 `approvalMode`): `any` needs one approval
 * from any approver entry; `all` one from each entry, each by a different person, so one person
 * in two entries counts once. Whether such an assignment exists is a bipartite matching between
 * entries and the people who approved.
 */

/**
 * Assigns to each entry a different person among its candidates, as many entries as possible
 * (a maximum bipartite matching, by augmenting paths): a person already standing for one entry
 * moves to another of theirs when that frees them for an entry nobody else can take. Returns,
 * per entry, the person standing for it, or undefined when none is left for it. A flow names a
 * handful of entries, so the entries × candidates work per call is negligible.
 */
export function assignApprovers(candidates: readonly (readonly string[])[]): (string | undefined)[] {
  const entryOf = new Map<string, number>();
  const place = (entry: number, tried: Set<string>): boolean => {
    for (const person of candidates[entry] ?? []) {
      if (tried.has(person)) continue;
      tried.add(person);
      const held = entryOf.get(person);
      if (held === undefined || place(held, tried)) {
        entryOf.set(person, entry);
        return true;
      }
    }
    return false;
  };
  for (let entry = 0; entry < candidates.length; entry++) place(entry, new Set());
  const assigned: (string | undefined)[] = candidates.map(() => undefined);
  for (const [person, entry] of entryOf) assigned[entry] = person;
  return assigned;
}

/**
 * Whether the approvals given satisfy the request: `any` needs one approval from any entry,
 * `all` one from each entry by a different person, and either needs `minApprovals` different
 * people among the approvers (a quorum). `approverIds` are the people whose
 * approval counts (the requester's only with self-approval allowed).
 */
export function approvalsComplete(
  groups: readonly { slackIds: readonly string[] }[],
  mode: 'any' | 'all',
  approverIds: readonly string[],
  minApprovals = 1,
): boolean {
  if (groups.length === 0) return true;
  const approved = new Set(approverIds);
  // A quorum counts different people who are approvers of the request.
  const counted = new Set(groups.flatMap((g) => g.slackIds).filter((id) => approved.has(id)));
  if (counted.size < minApprovals) return false;
  const candidates = groups.map((g) => [...new Set(g.slackIds)].filter((id) => approved.has(id)));
  if (mode === 'any') return candidates.some((c) => c.length > 0);
  return assignApprovers(candidates).every((person) => person !== undefined);
}
