import { approvalsComplete } from '../domain/approvals.ts';
import { quorumOf, type AccessFlow } from '../domain/flows.ts';
import { ConflictError, InputError, NotAllowedError } from '../domain/errors.ts';
import { formatMinutes } from '../domain/duration.ts';
import {
  eligibleApprovers,
  fromStatesOf,
  MAX_REASON_CHARS,
  newRequestId,
  partId,
  type AccessRequest,
  type ApproverGroup,
  type NewAccessRequest,
  type RequestStatus,
} from '../domain/request.ts';
import { formatTarget } from '../domain/target.ts';
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
import { inPart, partToRecord, RequestChecks, type PartToRecord, type Prepared } from './RequestChecks.ts';
import { requestOptionsFor } from './requestOptions.ts';
import type { AccessRequestInput, PartsRequestInput, Decision, RequestOptions } from './requestInputs.ts';
import { notify, requireIntegration, requireRequest, type RandomBytes } from './shared.ts';

const MINUTE_MS = 60_000;

/** The most targets one request may name (Slack's one message shows every part). */
export const MAX_PARTS = 10;

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
  private readonly checks: RequestChecks;

  constructor(private readonly deps: RequestDeps) {
    this.checks = new RequestChecks(deps);
  }

  /**
   * Asks for access. Bad input (unknown integration, permission the integration cannot give, a
   * duration over the flow's maximum, a missing or overlong reason) is an error that changes
   * nothing. Requests no approver is needed for are granted before this returns. With several
   * targets, the answer is the first part; {@link requestParts} answers every part.
   */
  async requestAccess(input: AccessRequestInput): Promise<AccessRequest> {
    const { target, permission, ...how } = input;
    return (await this.requestParts({ ...how, parts: [{ target, permission }] }))[0]!;
  }

  /**
   * Asks for access to one target or several (PRODUCT.md §6, README "Several targets"). Each part
   * is matched to its own flow and routed to its own approvers; every part is checked before any
   * is recorded, so one that no flow allows refuses the whole request, naming it. The parts share
   * a group ID that revoke, extend and cancel take for the whole request.
   */
  async requestParts(input: PartsRequestInput, authorize?: (parts: PartToRecord[]) => Promise<void>): Promise<AccessRequest[]> {
    const wanted = input.parts.flatMap((p) => ('bundle' in p ? this.checks.bundle(p.bundle).parts : [p]));
    if (wanted.length > MAX_PARTS) {
      throw new InputError(`One request holds at most ${MAX_PARTS} targets; this one has ${wanted.length}. Split it in two.`);
    }
    const seen = new Set<string>();
    for (const part of wanted) {
      const key = `${formatTarget(part.target)} ${part.permission}`;
      if (seen.has(key)) throw new InputError(`${key} is asked for twice; name each target and permission once.`);
      seen.add(key);
    }
    const requester = await this.deps.directory.person(input.requesterSlackId);
    const several = wanted.length > 1;
    const prepared: Prepared[] = [];
    for (const part of wanted) {
      const label = several ? `${formatTarget(part.target)} ${part.permission}` : undefined;
      prepared.push(
        await inPart(label, async () => {
          const target = this.checks.target(part.target, part.permission);
          const what = { kind: 'access' as const, requester, target, permission: part.permission };
          return this.prepare(what, input.durationMinutes, input.reason, input);
        }),
      );
    }
    if (authorize) await authorize(prepared.map(partToRecord));
    return this.submit(prepared, several ? await this.newGroupId() : undefined);
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
    const what = { kind: 'extension' as const, parentId: parent.id, requester: parent.requester, target: parent.target };
    const prepared = await this.prepare(
      { ...what, permission: parent.permission },
      durationMinutes,
      reason?.trim() || fallbackReason,
      parent.breakGlass ? { breakGlass: true } : {},
    );
    return (await this.submit([prepared], undefined))[0]!;
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
  async listForCommand(actorSlackId: string, all?: boolean, limit?: number): Promise<{ all: boolean; requests: AccessRequest[] }> {
    const everyone = all ?? (await this.deps.people.isAdmin(actorSlackId));
    return { all: everyone, requests: await this.list(actorSlackId, { all: everyone, ...(limit ? { limit } : {}) }) };
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
  requestOptions(slackId: string): Promise<RequestOptions> {
    return requestOptionsFor({ ...this.deps, bundles: this.deps.config.bundles }, slackId);
  }

  /** The person's own requests, or everyone's for admins, newest first. */
  async list(actorSlackId: string, options: { all?: boolean; limit?: number; statuses?: RequestStatus[] } = {}): Promise<AccessRequest[]> {
    const all = options.all === true;
    if (all && !(await this.deps.people.isAdmin(actorSlackId))) {
      throw new NotAllowedError("Only Sesame admins can list everyone's requests; `list` shows yours.");
    }
    return this.deps.requests.listRequests({
      ...(all ? {} : { requesterSlackId: actorSlackId }),
      ...(options.statuses ? { statuses: options.statuses } : {}),
      limit: options.limit ?? 50,
    });
  }

  /**
   * Chooses the flow, checks the reason and resolves approvers: everything a request must pass
   * before it is recorded. A break-glass flow's approvers are its reviewers, needed by no grant.
   */
  private async prepare(
    what: Pick<NewAccessRequest, 'kind' | 'parentId' | 'requester' | 'target' | 'permission'>,
    durationMinutes: number | undefined,
    reason: string | undefined,
    how: Pick<AccessRequestInput, 'breakGlass' | 'requestedBy'>,
  ): Promise<Prepared> {
    const breakGlass = how.breakGlass === true;
    const choice = await this.checks.flow(what.requester, {
      target: what.target,
      permission: what.permission,
      durationMinutes,
      breakGlass,
    });
    const { flow } = choice;
    const checkedReason = this.checks.reason(flow, reason);
    const approverGroups = breakGlass
      ? await this.deps.people.approverGroups(flow, requireIntegration(this.deps.integrations, what.target.integration), what.target)
      : await this.checks.approvers(flow, what.requester, what.target);
    const fields = {
      ...what,
      durationMinutes: choice.durationMinutes,
      reason: checkedReason,
      flowName: flow.name,
      approvalMode: flow.approvalMode,
      allowSelfApproval: flow.allowSelfApproval,
      approverGroups,
      ...(breakGlass ? { breakGlass: true } : {}),
      ...(how.requestedBy && how.requestedBy !== what.requester.slackId ? { requestedBy: how.requestedBy } : {}),
    };
    return { fields, flow, auto: breakGlass || flow.approvers.length === 0 };
  }

  /**
   * Records checked requests (the parts of one, under `groupId`) and sends each on: one that
   * needs no approver is granted (or, for an extension, applied) at once, the others go to their
   * approvers. Only requests that will wait for approvers count against the requester's cap.
   */
  private async submit(prepared: readonly Prepared[], groupId: string | undefined): Promise<AccessRequest[]> {
    const requester = prepared[0]!.fields.requester.slackId;
    const waiting = prepared.filter((p) => !p.auto).length;
    const createAll = async () => {
      const created: AccessRequest[] = [];
      for (const [i, p] of prepared.entries()) {
        created.push(
          await this.create({ ...p.fields, ...(groupId ? { groupId } : {}) }, p.flow, p.auto, groupId && partId(groupId, i + 1)),
        );
      }
      return created;
    };
    const created =
      waiting === 0
        ? await createAll()
        : await this.deps.userLocks.run(`requester:${requester}`, async () => {
            await this.checks.pendingCap(requester, waiting);
            return createAll();
          });
    for (const request of created) {
      if (request.status === 'pending') {
        await notify(this.deps.logger, 'approval requested', () => this.deps.notifier.approvalRequested(request));
      }
    }
    // Recorded and told: a grant that follows is finished by any replica, should this one die.
    markRecorded();
    const answered: AccessRequest[] = [];
    for (const request of created) {
      if (request.status !== 'approved') answered.push(request);
      else if (request.kind === 'extension') answered.push(await this.deps.grants.applyExtension(request));
      else answered.push(await this.deps.grants.grant(request.id));
      const granted = answered.at(-1)!;
      // Break-glass: granted without approval, so its reviewers hear of it at once, loudly.
      if (granted.breakGlass && granted.grantedAt) {
        await notify(this.deps.logger, 'break-glass', () => this.deps.notifier.breakGlassUsed?.(granted) ?? Promise.resolve());
      }
    }
    return answered;
  }

  /** A fresh ID for a request for several targets, used by no request nor group yet. */
  private async newGroupId(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const id = newRequestId((n) => this.deps.randomBytes(n));
      const used =
        (await this.deps.requests.getRequest(id)) !== undefined ||
        (await this.deps.requests.listRequests({ groupId: id, limit: 1 })).length > 0;
      if (!used || attempt >= 5) return id;
    }
  }

  private async create(
    request: Omit<NewAccessRequest, 'id' | 'createdAt' | 'pendingExpiresAt'>,
    flow: AccessFlow,
    auto: boolean,
    fixedId?: string | undefined,
  ) {
    const now = this.deps.clock.now();
    const who = await this.deps.audit.actorOf(request.requestedBy ?? request.requester.slackId, request);
    const created = this.deps.audit.of('request.created', who, (r) => ({
      flow: flow.name,
      durationMinutes: r.durationMinutes,
      duration: formatMinutes(r.durationMinutes),
      reason: r.reason,
      ...(r.parentId ? { parentId: r.parentId } : {}),
      ...(auto ? { autoApproved: true } : {}),
      ...(r.groupId ? { groupId: r.groupId } : {}),
      ...(r.breakGlass ? { breakGlass: true } : {}),
      ...(r.requestedBy ? { requestedBy: r.requestedBy } : {}),
    }));
    for (let attempt = 0; ; attempt++) {
      const id = fixedId ?? newRequestId((n) => this.deps.randomBytes(n));
      try {
        return await this.deps.requests.createRequest(
          { ...request, id, createdAt: now, pendingExpiresAt: new Date(now.getTime() + flow.pendingTtl * MINUTE_MS) },
          auto ? 'approved' : 'pending',
          created,
        );
      } catch (err) {
        if (err instanceof ConflictError && !fixedId && attempt < 5) continue; // an ID collision: draw again
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
