import { formatMinutes } from './duration.ts';
import type { Permission } from './permission.ts';
import { parsePrincipal, type Principal } from './principal.ts';
import { formatTarget, type Target } from './target.ts';

/** Where a flow lets people ask for access: an integration, narrowed or not. Omitted lists: all. */
export interface FlowTarget {
  integration: string;
  databases?: string[] | undefined;
  schemas?: string[] | undefined;
  tables?: string[] | undefined;
}

/**
 * Who may request what, and who approves (an entry of `accessFlows`). The config schema parses
 * into exactly this shape, durations already in minutes, and is checked against it at compile
 * time.
 */
export interface AccessFlow {
  name: string;
  /** Slack IDs, emails, @usergroup handles, or "*". */
  requestors: string[];
  /** Omitted: every integration, discovered ones included. */
  targets?: FlowTarget[] | undefined;
  permissions: string[];
  maxDuration: number;
  defaultDuration?: number | undefined;
  /** owner | integration-owner | Slack ID | email | @usergroup; empty: approved automatically. */
  approvers: string[];
  /** any: one approval; all: one from each approver entry. */
  approvalMode: 'any' | 'all';
  allowSelfApproval: boolean;
  /**
   * Approvals needed from different people (quorum, N of M); 1 by default. With `all`, each
   * approver entry also needs its own person.
   */
  minApprovals: number;
  requireJustification: boolean;
  /** A rule every reason must follow, e.g. a ticket key: `pattern` must match it somewhere. */
  justification?: JustificationRule | undefined;
  /** Minutes an unanswered request waits before it expires. */
  pendingTtl: number;
  /**
   * Emergency access: used only when the requester asks for break-glass, granted at once (a
   * reason is required), announced, and reviewed afterwards by `approvers` (or the admins).
   */
  breakGlass: boolean;
}

/** Approvals a request needs from different people: its flow's quorum as the config says now (1 for a flow since removed). */
export function quorumOf(flows: readonly Pick<AccessFlow, 'name' | 'minApprovals'>[], flowName: string): number {
  return flows.find((f) => f.name === flowName)?.minApprovals ?? 1;
}

/** What a flow asks of a reason: a regular expression it must match, and how to say so. */
export interface JustificationRule {
  /** A JavaScript regular expression (Unicode mode); anchor it with ^ to match from the start. */
  pattern: string;
  /** Said when a reason does not match: "a ticket key like OPS-123". */
  hint?: string | undefined;
}

/**
 * Why `reason` breaks the flow's rule, said so the person can fix it; undefined when it follows
 * it (or the flow has none).
 */
export function justificationProblem(flow: Pick<AccessFlow, 'name' | 'justification'>, reason: string): string | undefined {
  const rule = flow.justification;
  if (!rule || new RegExp(rule.pattern, 'u').test(reason)) return undefined;
  const what = rule.hint ?? `text matching /${rule.pattern}/`;
  return `Flow ${flow.name} needs a reason with ${what}: add it after "because", e.g. "because ${exampleOf(rule)} …".`;
}

/** The reason rules' hints of the flows covering an integration, said once each. */
export function justificationHintOf(flows: readonly Pick<AccessFlow, 'justification'>[]): string | undefined {
  const hints = flows.flatMap((f) => (f.justification ? [f.justification.hint ?? `text matching /${f.justification.pattern}/`] : []));
  return hints.length > 0 ? [...new Set(hints)].join(' or ') : undefined;
}

function exampleOf(rule: JustificationRule): string {
  // The hint's own example when it gives one ("like OPS-123"), else a placeholder.
  return /\blike\s+(\S+)/.exec(rule.hint ?? '')?.[1]?.replace(/[.,;]$/, '') ?? '<ticket>';
}

/** Answers whether the person making a request is named by a config principal. */
export type PrincipalMatcher = (principal: Principal) => boolean;

/** True when the flow's `requestors` include the person. */
export function flowAllowsRequester(flow: AccessFlow, isPerson: PrincipalMatcher): boolean {
  return flow.requestors.some((r) => {
    const p = parsePrincipal(r);
    return p !== undefined && isPerson(p);
  });
}

/**
 * True when the flow's `targets` cover the target. A narrowing list (databases, schemas, tables)
 * admits only targets at least that specific: a flow limited to `databases: [app]` does not
 * offer the whole server.
 */
export function flowAllowsTarget(flow: AccessFlow, target: Target): boolean {
  if (!flow.targets) return true;
  return flow.targets.some(
    (t) =>
      t.integration === target.integration &&
      (!t.databases || (target.database !== undefined && t.databases.includes(target.database))) &&
      (!t.schemas || (target.schema !== undefined && t.schemas.includes(target.schema))) &&
      (!t.tables || (target.table !== undefined && t.tables.includes(target.table))),
  );
}

export function flowAllowsPermission(flow: AccessFlow, permission: Permission): boolean {
  return flow.permissions.includes(permission);
}

export type FlowChoice =
  | { ok: true; flow: AccessFlow; durationMinutes: number }
  | { ok: false; reason: 'no_flow' | 'too_long'; message: string };

/**
 * Picks the flow for a request (PRODUCT.md §4): the requester, target and permission must all
 * match, and the duration be at most the flow's `maxDuration`; of several, the one with the
 * fewest approvers wins (config order breaks ties). A request for break-glass is matched against
 * the `breakGlass` flows only, and any other request against the others only. Without a duration, the flow's
 * `defaultDuration` applies, else one hour capped at `maxDuration`.
 */
export function chooseFlow(
  flows: readonly AccessFlow[],
  input: { target: Target; permission: Permission; durationMinutes?: number; breakGlass?: boolean },
  isPerson: PrincipalMatcher,
): FlowChoice {
  // Break-glass flows serve only requests that ask for break-glass, and those only them.
  const emergency = input.breakGlass === true;
  const candidates = flows.filter(
    (f) =>
      f.breakGlass === emergency &&
      flowAllowsRequester(f, isPerson) &&
      flowAllowsTarget(f, input.target) &&
      flowAllowsPermission(f, input.permission),
  );
  if (candidates.length === 0) {
    return {
      ok: false,
      reason: 'no_flow',
      message: `No ${emergency ? 'break-glass ' : ''}access flow lets you request ${input.permission} on ${formatTarget(input.target)}.`,
    };
  }
  const withDuration = candidates.map((flow) => ({
    flow,
    durationMinutes: input.durationMinutes ?? flow.defaultDuration ?? Math.min(60, flow.maxDuration),
  }));
  const fitting = withDuration.filter((c) => c.durationMinutes <= c.flow.maxDuration);
  if (fitting.length === 0) {
    const longest = Math.max(...candidates.map((f) => f.maxDuration));
    return {
      ok: false,
      reason: 'too_long',
      message: `${formatMinutes(input.durationMinutes ?? 0)} is longer than allowed: you can ask for at most ${formatMinutes(longest)} of ${input.permission} on ${formatTarget(input.target)}.`,
    };
  }
  let best = fitting[0]!;
  for (const c of fitting) if (c.flow.approvers.length < best.flow.approvers.length) best = c;
  return { ok: true, flow: best.flow, durationMinutes: best.durationMinutes };
}

/** The principals named in flows' requestors that are user groups, to resolve once per request. */
export function requestorGroupHandles(flows: readonly AccessFlow[]): string[] {
  const handles = new Set<string>();
  for (const f of flows) {
    for (const r of f.requestors) {
      const p = parsePrincipal(r);
      if (p?.kind === 'group') handles.add(p.handle);
    }
  }
  return [...handles];
}
