import { approvalsComplete, assignApprovers } from '../domain/approvals.ts';
import { chooseFlow, justificationHintOf, justificationProblem, quorumOf, type AccessFlow } from '../domain/flows.ts';
import { ConflictError, InputError, NotAllowedError, noIntegrationNamed } from '../domain/errors.ts';
import { formatMinutes } from '../domain/duration.ts';
import { isBuiltinPermission, roleOf, type Permission } from '../domain/permission.ts';
import {
  eligibleApprovers,
  fromStatesOf,
  MAX_REASON_CHARS,
  newRequestId,
  type AccessRequest,
  type ApproverGroup,
  type NewAccessRequest,
  type Person,
} from '../domain/request.ts';
import { formatTarget, validateTarget, type Target } from '../domain/target.ts';
import type { Clock } from '../ports/Clock.ts';
import { markRecorded } from '../lib/recorded.ts';
import type { KeyedLock } from '../ports/Coordination.ts';
import type { Directory } from '../ports/Directory.ts';
import type { Notifier } from '../ports/Notifier.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { Logger } from '../logger.ts';
import type { AuditTrail } from './AuditTrail.ts';
import type { GrantService } from './GrantService.ts';
import type { IntegrationRegistry } from './IntegrationRegistry.ts';
import type { People } from './People.ts';
import type { ServiceSettings } from './ServiceSettings.ts';
import type { AccessRequestInput, Decision, IntegrationOptions, RequestOptions } from './requestInputs.ts';
import { notify, requireIntegration, requireRequest, type RandomBytes } from './shared.ts';

const MINUTE_MS = 60_000;

/** The ports requests and decisions use, and the grant service that approved requests go to. */
export interface RequestDeps {
  config: ServiceSettings;
  integrations: IntegrationRegistry;
  requests: RequestStore;
  directory: Pick<Directory, 'person'>;
  notifier: Notifier;
  audit: AuditTrail;
  clock: Clock;
  logger: Logger;
  people: People;
  grants: Pick<GrantService, 'grant' | 'applyExtension'>;
  randomBytes: RandomBytes;
  /** Per requester (`requester:<Slack ID>`): counting their pending requests and adding one, on every replica. */
  userLocks: KeyedLock;
}

/**
 * Requests and decisions: asking for access or more time, approving, denying, cancelling. An
 * approval that completes a request hands it to the {@link GrantService}.
 */
export class RequestService {
  constructor(private readonly deps: RequestDeps) {}

  /**
   * Asks for access. Bad input (unknown integration, permission the integration cannot give, a
   * duration over the flow's maximum, a missing or overlong reason) is an error that changes
   * nothing. Requests no approver is needed for are granted before this returns.
   */
  async requestAccess(input: AccessRequestInput): Promise<AccessRequest> {
    const target = validateTarget(input.target);
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
    const role = roleOf(input.permission);
    if (role !== undefined && !integration.grantableRoles.includes(role)) {
      throw new InputError(
        `${integration.name} does not offer the role "${role}". Roles it offers: ${integration.grantableRoles.join(', ') || 'none'}.`,
        { field: 'permission' },
      );
    }
    if (!isBuiltinPermission(input.permission) && role === undefined) {
      throw new InputError(`"${input.permission}" is not a permission.`, { field: 'permission' });
    }
    const requester = await this.deps.directory.person(input.requesterSlackId);
    return this.submit({ kind: 'access', requester, target, permission: input.permission }, input.durationMinutes, input.reason);
  }

  /**
   * Asks for more time on a granted request, under the same flow rules as a new request with
   * the same target and permission.
   */
  async extend(requestId: string, actorSlackId: string, durationMinutes: number, reason?: string): Promise<AccessRequest> {
    const parent = await requireRequest(this.deps.requests, requestId);
    if (parent.requester.slackId !== actorSlackId) {
      throw new NotAllowedError(`Only the person who asked for ${parent.id} can extend it.`);
    }
    if (parent.kind !== 'access' || parent.status !== 'granted') {
      throw new ConflictError(`${parent.id} is ${parent.status}; only granted access can be extended.`);
    }
    const open = await this.deps.requests.listRequests({ parentId: parent.id, statuses: ['pending'] });
    if (open.length > 0) {
      throw new ConflictError(`An extension of ${parent.id} (${open[0]!.id}) is already waiting for approval.`);
    }
    const fallbackReason = `Extension of ${parent.id}: ${parent.reason}`.slice(0, MAX_REASON_CHARS);
    return this.submit(
      { kind: 'extension', parentId: parent.id, requester: parent.requester, target: parent.target, permission: parent.permission },
      durationMinutes,
      reason?.trim() || fallbackReason,
    );
  }

  /** Withdraws a pending request. Only its requester (or an admin) may. */
  async cancel(requestId: string, actorSlackId: string): Promise<AccessRequest> {
    const req = await requireRequest(this.deps.requests, requestId);
    if (req.requester.slackId !== actorSlackId && !(await this.deps.people.isAdmin(actorSlackId))) {
      throw new NotAllowedError(`Only the person who asked for ${req.id} can cancel it.`);
    }
    if (req.status === 'cancelled') return req;
    const cancelled = await this.deps.requests.transition(
      req.id,
      fromStatesOf('cancelled'),
      'cancelled',
      { endedAt: this.deps.clock.now(), endedBy: actorSlackId },
      this.deps.audit.of('request.cancelled', await this.deps.audit.actorOf(actorSlackId, req)),
    );
    if (!cancelled) {
      const now = await requireRequest(this.deps.requests, req.id);
      throw new ConflictError(
        `${req.id} is ${now.status}, so it cannot be cancelled.${now.status === 'granted' ? ` Use revoke ${req.id} to end the access.` : ''}`,
      );
    }
    await notify(this.deps.logger, 'cancelled', () => this.deps.notifier.requestUpdated(cancelled));
    markRecorded();
    return cancelled;
  }

  /**
   * Records an approver's decision. A click by someone who is not an approver of the request, or
   * by the requester without self-approval, is a NotAllowedError and changes nothing. A deny ends
   * the request; approvals that complete it grant it. Two racing approvals produce one grant.
   */
  async decide(d: Decision): Promise<AccessRequest> {
    const { req, groups } = await this.decider(d.requestId, d.actorSlackId);
    const who = await this.deps.audit.actorOf(d.actorSlackId, req);
    if (d.decision === 'deny') {
      const reason = d.comment?.trim();
      if (!reason) throw new InputError('Say why you deny the request; the requester sees it.');
      if (reason.length > MAX_REASON_CHARS) {
        throw new InputError(`A reason is at most ${MAX_REASON_CHARS} characters; this one has ${reason.length}.`);
      }
      await this.deps.requests.addApproval({
        requestId: req.id,
        approverId: d.actorSlackId,
        decision: 'deny',
        comment: reason,
        at: this.deps.clock.now(),
      });
      const denied = await this.deps.requests.transition(
        req.id,
        fromStatesOf('denied'),
        'denied',
        { decidedAt: this.deps.clock.now(), decidedBy: d.actorSlackId, denyReason: reason, endedAt: this.deps.clock.now() },
        this.deps.audit.of('request.denied', who, { reason }),
      );
      if (!denied) return this.raced(req.id);
      await notify(this.deps.logger, 'denied', () => this.deps.notifier.requestUpdated(denied));
      markRecorded();
      return denied;
    }
    const added = await this.deps.requests.addApproval({
      requestId: req.id,
      approverId: d.actorSlackId,
      decision: 'approve',
      ...(d.comment ? { comment: d.comment } : {}),
      at: this.deps.clock.now(),
    });
    if (!added) throw new ConflictError(`You already approved ${req.id}.`);
    // Earlier approvals count only from people who are still approvers now.
    const eligible = eligibleApprovers({ ...req, approverGroups: groups });
    const approvers = (await this.deps.requests.listApprovals(req.id))
      .filter((a) => a.decision === 'approve' && eligible.includes(a.approverId))
      .map((a) => a.approverId);
    if (!approvalsComplete(groups, req.approvalMode, approvers, quorumOf(this.deps.config.accessFlows, req.flowName))) {
      const waiting = await requireRequest(this.deps.requests, req.id);
      await this.deps.audit.append('request.approved', who, waiting, { complete: false });
      await notify(this.deps.logger, 'partly approved', () => this.deps.notifier.requestUpdated(waiting));
      markRecorded();
      return waiting;
    }
    const approved = await this.deps.requests.transition(
      req.id,
      fromStatesOf('approved'),
      'approved',
      { decidedAt: this.deps.clock.now(), decidedBy: d.actorSlackId },
      this.deps.audit.of('request.approved', who, { complete: true }),
    );
    if (!approved) return this.raced(req.id);
    await notify(this.deps.logger, 'approved', () => this.deps.notifier.requestUpdated(approved));
    // Approved and told: the grant that follows is finished by any replica, should this one die.
    markRecorded();
    return req.kind === 'extension' ? this.deps.grants.applyExtension(approved) : this.deps.grants.grant(approved.id);
  }

  /**
   * The request, when this person may decide on it now; otherwise the error that says why not
   * (already decided, their own request without self-approval, not an approver). Asked before a
   * deny reason is even collected, and again when the decision is recorded.
   */
  async mayDecide(requestId: string, actorSlackId: string): Promise<AccessRequest> {
    return (await this.decider(requestId, actorSlackId)).req;
  }

  /**
   * The request and its approver groups as they resolve now (PRODUCT.md §6: who may approve is
   * decided when the click arrives), when this person may decide on it; otherwise the error.
   */
  private async decider(requestId: string, actorSlackId: string): Promise<{ req: AccessRequest; groups: ApproverGroup[] }> {
    const req = await requireRequest(this.deps.requests, requestId);
    if (req.status !== 'pending') {
      throw new ConflictError(`${req.id} was already ${req.status}${req.decidedBy ? ` by <@${req.decidedBy}>` : ''}; nothing was changed.`);
    }
    if (actorSlackId === req.requester.slackId && !req.allowSelfApproval) {
      throw new NotAllowedError('You cannot decide on your own request; another approver has to.');
    }
    const groups = await this.deps.people.currentApproverGroups(req);
    if (!groups.some((g) => g.slackIds.includes(actorSlackId))) {
      const was = req.approverGroups.filter((g) => g.slackIds.includes(actorSlackId)).map((g) => g.source);
      throw new NotAllowedError(
        was.length > 0
          ? `You are no longer an approver of ${req.id}: you were in ${was.join(', ')} when it was made, and are not now, so nothing was changed. It waits for ${describeApprovers(groups)}.`
          : `You are not an approver of ${req.id}. It waits for ${describeApprovers(groups)}.`,
      );
    }
    return { req, groups };
  }

  /**
   * What `/access list` shows (PRODUCT.md §6): a person's own requests, and everyone's to admins.
   * `all: false` asks for one's own even as an admin; `all: true` from anyone else is refused.
   */
  async listForCommand(actorSlackId: string, all?: boolean): Promise<{ all: boolean; requests: AccessRequest[] }> {
    const everyone = all ?? (await this.deps.people.isAdmin(actorSlackId));
    return { all: everyone, requests: await this.list(actorSlackId, { all: everyone }) };
  }

  /**
   * Pending requests this person may still decide on (not their own unless self-approval is on),
   * in one store query however many there are: the App Home draws them on every visit.
   */
  async awaitingApproval(slackId: string): Promise<AccessRequest[]> {
    const undecided = await this.deps.requests.listRequests({ statuses: ['pending'], undecidedBy: slackId });
    return undecided.filter((req) => eligibleApprovers(req).includes(slackId));
  }

  /**
   * What the person may request, per integration: the permissions, the longest duration and
   * the default one, whether a reason is required, and the flows' narrowing of targets.
   */
  async requestOptions(slackId: string): Promise<RequestOptions> {
    const mine = await this.deps.people.flowsFor(slackId);
    const integrations: IntegrationOptions[] = [];
    for (const integration of this.deps.integrations.available()) {
      const covering = mine.filter((f) => !f.targets || f.targets.some((t) => t.integration === integration.name));
      if (covering.length === 0) continue;
      const permissions = [...new Set(covering.flatMap((f) => f.permissions))].filter(
        (p) => !p.startsWith('role:') || integration.grantableRoles.includes(p.slice(5)),
      ) as Permission[];
      const maxDurationMinutes = Math.max(...covering.map((f) => f.maxDuration));
      const withDefault = covering.find((f) => f.defaultDuration !== undefined);
      integrations.push({
        name: integration.name,
        permissions,
        maxDurationMinutes,
        defaultDurationMinutes: withDefault?.defaultDuration ?? Math.min(60, maxDurationMinutes),
        requireJustification: covering.every((f) => f.requireJustification || f.justification !== undefined),
        justificationHint: justificationHintOf(covering),
        customAccessDetails: integration.customAccessDetails,
      });
    }
    return { integrations };
  }

  /** The person's own requests, or everyone's for admins, newest first. */
  async list(actorSlackId: string, options: { all?: boolean; limit?: number } = {}): Promise<AccessRequest[]> {
    const all = options.all === true;
    if (all && !(await this.deps.people.isAdmin(actorSlackId))) {
      throw new NotAllowedError("Only Sesame admins can list everyone's requests; `list` shows yours.");
    }
    return this.deps.requests.listRequests({
      ...(all ? {} : { requesterSlackId: actorSlackId }),
      limit: options.limit ?? 50,
    });
  }

  /**
   * Chooses the flow, checks the reason, resolves approvers and records the request; one that
   * needs no approver is granted (or, for an extension, applied) at once.
   */
  private async submit(
    what: Pick<NewAccessRequest, 'kind' | 'parentId' | 'requester' | 'target' | 'permission'>,
    durationMinutes: number | undefined,
    reason: string | undefined,
  ): Promise<AccessRequest> {
    const choice = await this.pickFlow(what.requester, what.target, what.permission, durationMinutes);
    const { flow } = choice;
    const checkedReason = this.checkReason(flow, reason);
    const approverGroups = await this.approversFor(flow, what.requester, what.target);
    const auto = flow.approvers.length === 0;
    const create = () =>
      this.create(
        {
          ...what,
          durationMinutes: choice.durationMinutes,
          reason: checkedReason,
          flowName: flow.name,
          approvalMode: flow.approvalMode,
          allowSelfApproval: flow.allowSelfApproval,
          approverGroups,
        },
        flow,
        auto,
      );
    // Only a request that will wait for approvers counts against the cap.
    const created = auto
      ? await create()
      : await this.deps.userLocks.run(`requester:${what.requester.slackId}`, async () => {
          await this.checkPendingCap(what.requester.slackId);
          return create();
        });
    if (auto) {
      markRecorded();
      return created.kind === 'extension' ? this.deps.grants.applyExtension(created) : this.deps.grants.grant(created.id);
    }
    await notify(this.deps.logger, 'approval requested', () => this.deps.notifier.approvalRequested(created));
    markRecorded();
    return created;
  }

  /**
   * Refuses a new pending request of a person who has `slack.maxPendingPerPerson` of them
   * already (PRODUCT.md §6), so nobody can flood approvers; nothing is recorded or sent.
   */
  private async checkPendingCap(requesterSlackId: string): Promise<void> {
    const max = this.deps.config.slack.maxPendingPerPerson;
    const pending = await this.deps.requests.listRequests({ requesterSlackId, statuses: ['pending'], limit: max });
    if (pending.length < max) return;
    const shown = pending
      .slice(0, 10)
      .map((r) => r.id)
      .join(', ');
    throw new ConflictError(
      `You already have ${pending.length} requests waiting for approval, the most one person may have at once (${shown}${pending.length > 10 ? ', …' : ''}). Cancel one you no longer need with \`${this.deps.config.slack.command} cancel <request-id>\`, or wait until one is decided, then ask again.`,
    );
  }

  private async pickFlow(requester: Person, target: Target, permission: Permission, durationMinutes?: number) {
    const flows = this.deps.config.accessFlows;
    const choice = chooseFlow(flows, { target, permission, durationMinutes }, await this.deps.people.matcherFor(requester, flows));
    if (!choice.ok) {
      if (choice.reason === 'too_long') throw new InputError(choice.message, { field: 'duration' });
      throw new NotAllowedError(`${choice.message} /access help lists what you can request.`);
    }
    return choice;
  }

  private checkReason(flow: AccessFlow, reason: string | undefined): string {
    const text = (reason ?? '').trim();
    if (text.length > MAX_REASON_CHARS) {
      throw new InputError(`A reason is at most ${MAX_REASON_CHARS} characters; this one has ${text.length}. Shorten it.`, {
        field: 'reason',
      });
    }
    if (!text && (flow.requireJustification || flow.justification)) {
      const what = flow.justification?.hint ? ` with ${flow.justification.hint}` : '';
      throw new InputError(`Give a reason${what}: add "because <why you need it>" (flow ${flow.name} requires one).`, { field: 'reason' });
    }
    const problem = text ? justificationProblem(flow, text) : undefined;
    if (problem) throw new InputError(problem, { field: 'reason' });
    return text;
  }

  private async approversFor(flow: AccessFlow, requester: Person, target: Target): Promise<ApproverGroup[]> {
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

  private async create(request: Omit<NewAccessRequest, 'id' | 'createdAt' | 'pendingExpiresAt'>, flow: AccessFlow, auto: boolean) {
    const now = this.deps.clock.now();
    const who = await this.deps.audit.actorOf(request.requester.slackId, request);
    const created = this.deps.audit.of('request.created', who, (r) => ({
      flow: flow.name,
      durationMinutes: r.durationMinutes,
      duration: formatMinutes(r.durationMinutes),
      reason: r.reason,
      ...(r.parentId ? { parentId: r.parentId } : {}),
      ...(auto ? { autoApproved: true } : {}),
    }));
    for (let attempt = 0; ; attempt++) {
      const id = newRequestId((n) => this.deps.randomBytes(n));
      try {
        return await this.deps.requests.createRequest(
          { ...request, id, createdAt: now, pendingExpiresAt: new Date(now.getTime() + flow.pendingTtl * MINUTE_MS) },
          auto ? 'approved' : 'pending',
          created,
        );
      } catch (err) {
        if (err instanceof ConflictError && attempt < 5) continue; // an ID collision: draw again
        throw err;
      }
    }
  }

  private async raced(id: string): Promise<AccessRequest> {
    const now = await requireRequest(this.deps.requests, id);
    throw new ConflictError(`${id} was already ${now.status}${now.decidedBy ? ` by <@${now.decidedBy}>` : ''}; nothing was changed.`);
  }
}

function describeApprovers(groups: readonly ApproverGroup[]): string {
  return groups.map((g) => `${g.source} (${g.slackIds.map((id) => `<@${id}>`).join(', ') || 'nobody'})`).join(' and ');
}
