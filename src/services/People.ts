import type { AccessFlowConfig, IntegrationConfig } from '../config/schema.ts';
import { flowAllowsRequester, requestorGroupHandles, type PrincipalMatcher } from '../domain/flows.ts';
import { parsePrincipal, type Principal } from '../domain/principal.ts';
import type { ApproverGroup, Person } from '../domain/request.ts';
import type { Target } from '../domain/target.ts';
import type { ServiceDeps } from './ServiceDeps.ts';

/**
 * Turns the people a config names (Slack IDs, emails, @usergroups) into Slack user IDs through
 * the Directory, and answers who may request, approve and administer.
 */
export class People {
  constructor(private readonly deps: ServiceDeps) {}

  /** Slack IDs named by one principal; empty when nobody matches. */
  async resolve(principal: Principal): Promise<string[]> {
    switch (principal.kind) {
      case 'user':
        return [principal.slackId];
      case 'email': {
        const id = await this.deps.directory.userIdByEmail(principal.email);
        return id ? [id] : [];
      }
      case 'group':
        return (await this.deps.directory.groupMembers(principal.handle)) ?? [];
      case 'everyone':
        return [];
    }
  }

  /** A matcher for the person against the principals that `flows` use. */
  async matcherFor(person: Person, flows: readonly AccessFlowConfig[]): Promise<PrincipalMatcher> {
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
  async flowsFor(slackId: string): Promise<AccessFlowConfig[]> {
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
  async approverGroups(
    flow: AccessFlowConfig,
    integration: IntegrationConfig,
    target: Target,
  ): Promise<ApproverGroup[]> {
    const groups: ApproverGroup[] = [];
    for (const entry of flow.approvers) {
      if (entry === 'owner') {
        const owner = await this.deps.owners?.ownerOf(target);
        const p = owner ? parsePrincipal(owner) : undefined;
        const ids = p ? await this.resolve(p) : [];
        if (owner && ids.length > 0) {
          groups.push({ source: entry, reason: `owner of ${integration.name} (${owner})`, slackIds: ids });
          continue;
        }
        groups.push(await this.integrationOwners(integration, entry));
      } else if (entry === 'integration-owner') {
        groups.push(await this.integrationOwners(integration, entry));
      } else {
        const p = parsePrincipal(entry);
        const ids = p ? await this.resolve(p) : [];
        groups.push({ source: entry, reason: `named approver (${entry}) of flow ${flow.name}`, slackIds: ids });
      }
    }
    return groups;
  }

  private async integrationOwners(integration: IntegrationConfig, source: string): Promise<ApproverGroup> {
    const ids = new Set<string>();
    for (const entry of integration.owners.integration) {
      const p = parsePrincipal(entry);
      if (p) for (const id of await this.resolve(p)) ids.add(id);
    }
    return { source, reason: `owner of integration ${integration.name}`, slackIds: [...ids] };
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
