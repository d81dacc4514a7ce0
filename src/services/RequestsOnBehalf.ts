import { InputError, NotAllowedError, NotFoundError } from '../domain/errors.ts';
import type { AccessRequest } from '../domain/request.ts';
import { formatTarget } from '../domain/target.ts';
import type { Directory } from '../ports/Directory.ts';
import type { People } from './People.ts';
import type { PartToRecord } from './RequestChecks.ts';
import type { RequestService } from './RequestService.ts';
import type { AskFor, PartsRequestInput } from './requestInputs.ts';

export interface OnBehalfDeps {
  people: Pick<People, 'isAdmin'>;
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
 * decide what may be asked and who approves, exactly as if they had asked (the request service
 * checks the parts once, and asks here whether the filer may file them before anything is
 * recorded). Where the filer is an approver of a part, filing it is their approval; every other
 * approval still has to come, so it is never a way around a flow. Both people are named in every
 * audit event of the request.
 */
export class RequestsOnBehalf {
  constructor(private readonly deps: OnBehalfDeps) {}

  async file(input: OnBehalfInput): Promise<AccessRequest[]> {
    const { actorSlackId } = input;
    const slackId = await this.personId(input.person);
    if (slackId === actorSlackId) {
      throw new InputError('That is you: ask for yourself with `request <target> <permission> …`.');
    }
    const admin = await this.deps.people.isAdmin(actorSlackId);
    const approverOf = new Set<number>();
    const authorize = async (parts: PartToRecord[]) => {
      for (const [i, part] of parts.entries()) {
        if (part.eligibleApprovers.includes(actorSlackId)) approverOf.add(i);
        else if (!admin) {
          throw new NotAllowedError(
            `Only a Sesame admin or someone who could approve it may ask for ${formatTarget(part.target)} ${part.permission} for <@${slackId}>; under flow ${part.flowName} that is ${part.eligibleApprovers.map((id) => `<@${id}>`).join(', ') || 'nobody'}. Nothing was changed.`,
          );
        }
      }
    };
    const created = await this.deps.asks.requestParts(
      {
        requesterSlackId: slackId,
        requestedBy: actorSlackId,
        parts: input.parts,
        ...(input.durationMinutes !== undefined ? { durationMinutes: input.durationMinutes } : {}),
        ...(input.reason !== undefined ? { reason: input.reason } : {}),
      },
      authorize,
    );
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
