import { InputError, NotAllowedError, NotFoundError } from '../domain/errors.ts';
import { formatTarget } from '../domain/target.ts';
import { eligibleApprovers, type AccessRequest } from '../domain/request.ts';
import type { Directory } from '../ports/Directory.ts';
import { inPart, type RequestCheckDeps, RequestChecks } from './RequestChecks.ts';
import type { RequestService } from './RequestService.ts';
import type { AskFor, PartsRequestInput, RequestPart } from './requestInputs.ts';

export interface OnBehalfDeps extends RequestCheckDeps {
  directory: Pick<Directory, 'person' | 'userIdByEmail' | 'isDeactivated'>;
  asks: Pick<RequestService, 'requestParts' | 'decide'>;
}

/** Who a request filed for someone else is for, as the filer named them. */
export type PersonNamed = { slackId: string } | { email: string };

export interface OnBehalfInput extends Omit<AskFor, 'requesterSlackId' | 'requestedBy' | 'breakGlass'> {
  actorSlackId: string;
  person: PersonNamed;
  parts: PartsRequestInput['parts'];
}

/**
 * Requests filed for someone else (`/access grant <person> …`, README "Grants on behalf"). The
 * filer must be a Sesame admin or someone who could approve every part; the person's own flows
 * decide what may be asked and who approves, exactly as if they had asked. Where the filer is an
 * approver of a part, filing it is their approval; every other approval still has to come, so it
 * is never a way around a flow. Both people are named in every audit event of the request.
 */
export class RequestsOnBehalf {
  private readonly checks: RequestChecks;

  constructor(private readonly deps: OnBehalfDeps) {
    this.checks = new RequestChecks(deps);
  }

  async file(input: OnBehalfInput): Promise<AccessRequest[]> {
    const { actorSlackId } = input;
    const slackId = await this.personId(input.person);
    if (slackId === actorSlackId) {
      throw new InputError('That is you: ask for yourself with `request <target> <permission> …`.');
    }
    const person = await this.deps.directory.person(slackId);
    const admin = await this.deps.people.isAdmin(actorSlackId);
    const wanted: RequestPart[] = input.parts.flatMap((p) => ('bundle' in p ? this.checks.bundle(p.bundle).parts : [p]));
    const approverOf = new Set<number>();
    for (const [i, part] of wanted.entries()) {
      const label = wanted.length > 1 ? `${formatTarget(part.target)} ${part.permission}` : undefined;
      await inPart(label, async () => {
        const target = this.checks.target(part.target, part.permission);
        const { flow } = await this.checks.flow(person, { target, permission: part.permission, ...duration(input) });
        const groups = await this.checks.approvers(flow, person, target);
        const eligible = eligibleApprovers({ approverGroups: groups, allowSelfApproval: flow.allowSelfApproval, requester: person });
        if (eligible.includes(actorSlackId)) approverOf.add(i);
        else if (!admin) {
          throw new NotAllowedError(
            `Only a Sesame admin or someone who could approve it may ask for ${formatTarget(target)} ${part.permission} for <@${slackId}>; under flow ${flow.name} that is ${eligible.map((id) => `<@${id}>`).join(', ') || 'nobody'}. Nothing was changed.`,
          );
        }
      });
    }
    const created = await this.deps.asks.requestParts({
      requesterSlackId: slackId,
      requestedBy: actorSlackId,
      parts: wanted,
      ...duration(input),
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
    });
    const answered: AccessRequest[] = [];
    for (const [i, part] of created.entries()) {
      const approves = part.status === 'pending' && approverOf.has(i);
      answered.push(approves ? await this.deps.asks.decide({ requestId: part.id, actorSlackId, decision: 'approve' }) : part);
    }
    return answered;
  }

  /** The person's Slack ID, when they are in the workspace and active; otherwise what to do. */
  private async personId(named: PersonNamed): Promise<string> {
    let slackId: string | undefined;
    if ('email' in named) {
      slackId = await this.deps.directory.userIdByEmail(named.email, { fresh: true });
      if (!slackId)
        throw new InputError(`Nobody in this Slack workspace has the email ${named.email}. Check it, or name them by member ID.`);
    } else {
      slackId = named.slackId;
      try {
        await this.deps.directory.person(slackId);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        throw new InputError(`${slackId} is not a member of this Slack workspace. Check the member ID, or name them by email.`);
      }
    }
    if (await this.deps.directory.isDeactivated?.(slackId)) {
      throw new InputError(`<@${slackId}> is deactivated in Slack; Sesame grants them nothing.`);
    }
    return slackId;
  }
}

function duration(input: Pick<AskFor, 'durationMinutes'>) {
  return input.durationMinutes !== undefined ? { durationMinutes: input.durationMinutes } : {};
}
