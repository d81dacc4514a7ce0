import { assignApprovers } from '../domain/approvals.ts';
import { chooseFlow, justificationProblem, type AccessFlow } from '../domain/flows.ts';
import { ConflictError, InputError, NotAllowedError, NotFoundError, noIntegrationNamed, type SesameError } from '../domain/errors.ts';
import type { Bundle } from '../domain/bundle.ts';
import { isBuiltinPermission, PERMISSION_USAGE, roleOf, type Permission } from '../domain/permission.ts';
import { eligibleApprovers, MAX_REASON_CHARS, type ApproverGroup, type NewAccessRequest, type Person } from '../domain/request.ts';
import { formatTarget, validateTarget, type Target } from '../domain/target.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { IntegrationRegistry } from './IntegrationRegistry.ts';
import type { People } from './People.ts';
import type { ServiceSettings } from './ServiceSettings.ts';
import { requireIntegration } from './shared.ts';

/** A request that passed every check, ready to record. */
export interface Prepared {
  fields: Omit<NewAccessRequest, 'id' | 'createdAt' | 'pendingExpiresAt'>;
  flow: AccessFlow;
  /** Granted without approvers: a flow without them, or break-glass. */
  auto: boolean;
}

/** A part that passed every check, as a caller of requestParts may check it further before it is recorded. */
export interface PartToRecord {
  target: Target;
  permission: Permission;
  flowName: string;
  /** Who could approve the part (its approvers, less the requester unless self-approval is on). */
  eligibleApprovers: string[];
}

export function partToRecord({ fields, flow }: Prepared): PartToRecord {
  return { target: fields.target, permission: fields.permission, flowName: flow.name, eligibleApprovers: eligibleApprovers(fields) };
}

/** What the checks read: the config, the integrations, the people, the pending requests. */
export interface RequestCheckDeps {
  config: ServiceSettings;
  integrations: IntegrationRegistry;
  requests: Pick<RequestStore, 'listRequests'>;
  people: People;
}

/**
 * Every check a new request passes before anything is recorded: the target and permission the
 * integration offers, the flow that allows them, the reason it asks for, approvers enough to
 * decide, and the requester's cap on waiting requests. Each failure is an error that says what to
 * do, and changes nothing.
 */
export class RequestChecks {
  constructor(private readonly deps: RequestCheckDeps) {}

  /**
   * The bundle of this name. A name that is an integration's is a target without its
   * permission; any other is a name no bundle has. Both errors say what to type instead.
   */
  bundle(name: string): Bundle {
    const found = this.deps.config.bundles.find((b) => b.name === name);
    if (found) return found;
    if (this.deps.integrations.get(name)) {
      throw new InputError(`Say which permission you need on ${name}: ${PERMISSION_USAGE}.`, { field: 'permission' });
    }
    const known = this.deps.config.bundles.map((b) => b.name);
    throw new InputError(
      `There is no bundle named "${name}"${known.length > 0 ? ` (bundles: ${known.join(', ')})` : ''}. Name a bundle, or a target and a permission, e.g. \`prod/app readonly\`.`,
      { field: 'integration' },
    );
  }

  /** The target, when its integration exists, takes requests, and offers the permission. */
  target(raw: Target, permission: Permission): Target {
    const target = validateTarget(raw);
    const integration = this.deps.integrations.get(target.integration);
    if (!integration) {
      // An input error, not a NotFoundError: the name is what the person typed or chose, and the
      // form shows the error beside the integration they picked.
      const known = this.deps.integrations.available().map((i) => i.name);
      throw new InputError(noIntegrationNamed(target.integration, known), { field: 'integration' });
    }
    if (!this.deps.integrations.isAvailable(integration.name)) {
      // The integration's state, not a failure to reach it: the person is told in these words.
      throw new ConflictError(
        `${integration.name} is no longer found in AWS, so Sesame takes no new requests for it. Access already granted there stays listed and is taken away as planned. Ask a Sesame admin if the database moved.`,
      );
    }
    const role = roleOf(permission);
    if (role !== undefined && !integration.grantableRoles.includes(role)) {
      throw new InputError(
        `${integration.name} does not offer the role "${role}". Roles it offers: ${integration.grantableRoles.join(', ') || 'none'}.`,
        { field: 'permission' },
      );
    }
    if (!isBuiltinPermission(permission) && role === undefined) {
      throw new InputError(`"${permission}" is not a permission.`, { field: 'permission' });
    }
    return target;
  }

  /** The flow that allows the request, and the duration it gets under it. */
  async flow(requester: Person, what: { target: Target; permission: Permission; durationMinutes?: number; breakGlass?: boolean }) {
    const flows = this.deps.config.accessFlows;
    const choice = chooseFlow(flows, what, await this.deps.people.matcherFor(requester, flows));
    if (!choice.ok) {
      if (choice.reason === 'too_long') throw new InputError(choice.message, { field: 'duration' });
      throw new NotAllowedError(`${choice.message} /access help lists what you can request.`);
    }
    return choice;
  }

  /** The reason, trimmed, when it is as long and as formed as the flow asks. */
  reason(flow: AccessFlow, reason: string | undefined): string {
    const text = (reason ?? '').trim();
    if (text.length > MAX_REASON_CHARS) {
      throw new InputError(`A reason is at most ${MAX_REASON_CHARS} characters; this one has ${text.length}. Shorten it.`, {
        field: 'reason',
      });
    }
    if (!text && (flow.requireJustification || flow.justification || flow.breakGlass)) {
      const what = flow.justification?.hint ? ` with ${flow.justification.hint}` : '';
      throw new InputError(`Give a reason${what}: add "because <why you need it>" (flow ${flow.name} requires one).`, { field: 'reason' });
    }
    const problem = text ? justificationProblem(flow, text) : undefined;
    if (problem) throw new InputError(problem, { field: 'reason' });
    return text;
  }

  /**
   * The flow's approver groups for the target, when they name people enough to decide: someone
   * besides the requester (unless self-approval is on), `minApprovals` different people, and one
   * per entry with approvalMode `all`.
   */
  async approvers(flow: AccessFlow, requester: Person, target: Target): Promise<ApproverGroup[]> {
    if (flow.approvers.length === 0) return [];
    const integration = requireIntegration(this.deps.integrations, target.integration);
    const groups = await this.deps.people.approverGroups(flow, integration, target);
    const usable = groups.map((g) => (flow.allowSelfApproval ? g.slackIds : g.slackIds.filter((id) => id !== requester.slackId)));
    if (usable.every((ids) => ids.length === 0)) {
      throw new NotAllowedError(
        `Nobody ${flow.allowSelfApproval ? '' : 'but you '}can approve ${formatTarget(target)} under flow ${flow.name} (${flow.approvers.join(', ')} name no one else). Ask a Sesame admin to set owners for ${target.integration}.`,
      );
    }
    const people = new Set(usable.flat()).size;
    if (people < flow.minApprovals) {
      throw new NotAllowedError(
        `Flow ${flow.name} needs ${flow.minApprovals} approvals from different people, and its approvers name only ${people}${flow.allowSelfApproval ? '' : ' besides you'} for ${formatTarget(target)}. Ask a Sesame admin to add approvers.`,
      );
    }
    if (flow.approvalMode === 'all' && assignApprovers(usable).includes(undefined)) {
      throw new NotAllowedError(
        `Flow ${flow.name} needs a different person to approve for each of ${flow.approvers.join(', ')}, and they name too few people${flow.allowSelfApproval ? '' : ' besides you'} for ${formatTarget(target)}. Ask a Sesame admin to add approvers.`,
      );
    }
    return groups;
  }

  /**
   * Refuses `adding` new pending requests of a person who would then have more than
   * `slack.maxPendingPerPerson` of them (PRODUCT.md §6), so nobody can flood approvers.
   */
  async pendingCap(requesterSlackId: string, adding: number): Promise<void> {
    const max = this.deps.config.slack.maxPendingPerPerson;
    const pending = await this.deps.requests.listRequests({ requesterSlackId, statuses: ['pending'], limit: max });
    if (pending.length + adding <= max) return;
    const shown = pending
      .slice(0, 10)
      .map((r) => r.id)
      .join(', ');
    const command = this.deps.config.slack.command;
    const list = `(${shown || 'none'}${pending.length > 10 ? ', …' : ''})`;
    const limit =
      adding > 1
        ? `; this request would add ${adding}, and one person may have at most ${max} at once ${list}.`
        : `, the most one person may have at once ${list}.`;
    throw new ConflictError(
      `You already have ${pending.length} requests waiting for approval${limit} Cancel one you no longer need with \`${command} cancel <request-id>\`, or wait until one is decided, then ask again.`,
    );
  }
}

/**
 * Runs a check of one part of a request for several targets; its error names the part, so the
 * person knows which one to fix. A single target's errors are left as they are.
 */
export async function inPart<T>(label: string | undefined, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    const plain =
      err instanceof InputError || err instanceof NotAllowedError || err instanceof ConflictError || err instanceof NotFoundError;
    if (!label || !plain) throw err;
    const Kind = err.constructor as new (message: string, options?: object) => SesameError;
    const field = err instanceof InputError && err.field ? { field: err.field } : {};
    throw new Kind(`${label}: ${err.message}`, { cause: err, ...field });
  }
}
