import type { Integration } from '../domain/integration.ts';
import { flowAllowsRequester, requestorGroupHandles, type AccessFlow, type PrincipalMatcher } from '../domain/flows.ts';
import { parsePrincipal, type Principal } from '../domain/principal.ts';
import type { AccessRequest, ApproverGroup, Person } from '../domain/request.ts';
import type { Target } from '../domain/target.ts';
import type { Directory, Lookup } from '../ports/Directory.ts';
import type { ResourceOwners } from '../ports/ResourceOwners.ts';
import type { IntegrationRegistry } from './IntegrationRegistry.ts';
import type { ServiceSettings } from './ServiceSettings.ts';

/** The ports People reads: who is who (the directory), the config, the integrations and their owners. */
export interface PeopleDeps {
  config: ServiceSettings;
  integrations: Pick<IntegrationRegistry, 'get'>;
  directory: Directory;
  owners?: ResourceOwners;
}

/**
 * Turns the people a config names (Slack IDs, emails, @usergroups) into Slack user IDs through
 * the Directory, and answers who may request, approve and administer.
 */
export class People {
  /** Needs no notifier, so the composition root can build it first and tell the notifier who the admins are. */
  constructor(private readonly deps: PeopleDeps) {}

  /** Slack IDs named by one principal; empty when nobody matches. */
  async resolve(principal: Principal, lookup?: Lookup): Promise<string[]> {
    switch (principal.kind) {
      case 'user':
        return [principal.slackId];
      case 'email': {
        const id = await this.deps.directory.userIdByEmail(principal.email, lookup);
        return id ? [id] : [];
      }
      case 'group':
        return (await this.deps.directory.groupMembers(principal.handle, lookup)) ?? [];
      case 'everyone':
        return [];
    }
  }

  /** A matcher for the person against the principals that `flows` use. */
  async matcherFor(person: Person, flows: readonly AccessFlow[]): Promise<PrincipalMatcher> {
    const groups = new Set<string>();
    for (const handle of requestorGroupHandles(flows)) {
      const members = await this.deps.directory.groupMembers(handle);
      if (members?.includes(person.slackId)) groups.add(handle);
    }
    return (p) => matchesPerson(p, person, groups);
  }

  /** Slack IDs of Sesame's admins (`slack.admins`: IDs, emails and @usergroups). */
  async adminIds(): Promise<string[]> {
    const ids = new Set<string>();
    for (const entry of this.deps.config.slack.admins) {
      const p = parsePrincipal(entry);
      if (p) for (const id of await this.resolve(p)) ids.add(id);
    }
    return [...ids];
  }

  async isAdmin(slackId: string): Promise<boolean> {
    return (await this.adminIds()).includes(slackId);
  }

  /** The access flows whose requestors include this person. */
  async flowsFor(slackId: string): Promise<AccessFlow[]> {
    const person = await this.deps.directory.person(slackId);
    const flows = this.deps.config.accessFlows;
    const isPerson = await this.matcherFor(person, flows);
    return flows.filter((f) => flowAllowsRequester(f, isPerson));
  }

  /**
   * The approver groups of a request under a flow, each with who is in it and why. `owner` is the
   * resource's owner where the resource names one and it resolves to somebody; otherwise the
   * integration's owners stand in.
   */
  async approverGroups(flow: AccessFlow, integration: Integration, target: Target): Promise<ApproverGroup[]> {
    const groups: ApproverGroup[] = [];
    for (const entry of flow.approvers) groups.push(await this.approverGroup(entry, flow.name, integration, target));
    return groups;
  }

  /**
   * The request's approver entries as they resolve now, asking the directory afresh: who may
   * approve is decided when the click arrives, so someone who left `@dba` since the request was
   * made is no longer in its group, and someone who joined is. An entry of an integration that
   * is no longer known names nobody.
   */
  /** Whether this person is a Sesame admin, or one of the request's approvers as they resolve now. */
  async isAdminOrCurrentApprover(
    request: Pick<AccessRequest, 'approverGroups' | 'flowName' | 'target'>,
    slackId: string,
  ): Promise<boolean> {
    if (await this.isAdmin(slackId)) return true;
    return (await this.currentApproverGroups(request)).some((g) => g.slackIds.includes(slackId));
  }

  async currentApproverGroups(request: Pick<AccessRequest, 'approverGroups' | 'flowName' | 'target'>): Promise<ApproverGroup[]> {
    const integration = this.deps.integrations.get(request.target.integration);
    const groups: ApproverGroup[] = [];
    for (const g of request.approverGroups) {
      groups.push(await this.approverGroup(g.source, request.flowName, integration, request.target, { fresh: true }));
    }
    return groups;
  }

  /**
   * Where a request's approval message is posted: the resource's channel (its RDS tag), else its
   * integration's `owners.channel`, else `fallback` (slack.approvalChannel); the integration's
   * own channel and the fallback both with `alsoApprovalChannel`. A tag that cannot be read
   * falls back to the config.
   */
  async approvalChannels(target: Target, fallback: string | undefined): Promise<string[]> {
    const integration = this.deps.integrations.get(target.integration);
    const tagged = await this.deps.owners?.channelOf?.(target).catch(() => undefined);
    const own = tagged ?? integration?.owners.channel;
    if (!own) return fallback ? [fallback] : [];
    return integration?.owners.alsoApprovalChannel && fallback && fallback !== own ? [own, fallback] : [own];
  }

  private async approverGroup(
    entry: string,
    flowName: string,
    integration: Integration | undefined,
    target: Target,
    lookup?: Lookup,
  ): Promise<ApproverGroup> {
    if (entry !== 'owner' && entry !== 'integration-owner') {
      const p = parsePrincipal(entry);
      const ids = p ? await this.resolve(p, lookup) : [];
      return { source: entry, reason: `named approver (${entry}) of flow ${flowName}`, slackIds: ids };
    }
    if (!integration) return { source: entry, reason: `owner of integration ${target.integration}`, slackIds: [] };
    if (entry === 'owner') {
      const owner = await this.deps.owners?.ownerOf(target);
      const p = owner ? parsePrincipal(owner) : undefined;
      const ids = p ? await this.resolve(p, lookup) : [];
      if (owner && ids.length > 0) return { source: entry, reason: `owner of ${integration.name} (${owner})`, slackIds: ids };
    }
    const ids = new Set<string>();
    for (const owner of integration.owners.integration) {
      const p = parsePrincipal(owner);
      if (p) for (const id of await this.resolve(p, lookup)) ids.add(id);
    }
    return { source: entry, reason: `owner of integration ${integration.name}`, slackIds: [...ids] };
  }
}

function matchesPerson(p: Principal, person: Person, groups: ReadonlySet<string>): boolean {
  switch (p.kind) {
    case 'everyone':
      return true;
    case 'user':
      return p.slackId === person.slackId;
    case 'email':
      return person.email !== undefined && p.email === person.email.toLowerCase();
    case 'group':
      return groups.has(p.handle);
  }
}
