import { ListTagsForResourceCommand } from '@aws-sdk/client-rds';
import type { IntegrationConfig } from '../../config/schema.ts';
import type { Target } from '../../domain/target.ts';
import { describeError, type Logger } from '../../logger.ts';
import type { ResourceOwners } from '../../ports/ResourceOwners.ts';
import type { AwsClients } from './AwsClients.ts';
import { awsFailure } from './awsErrors.ts';
import { tagsOf, type RdsResolver } from './RdsResolver.ts';

export interface RdsResourceOwnersOptions {
  /** The integration config by name, static or discovered; undefined when there is none. */
  integration: (name: string) => IntegrationConfig | undefined;
  resolver: RdsResolver;
  clients: AwsClients;
  logger?: Logger;
}

/**
 * The owner an RDS instance or cluster names in its `owners.resourceTagKey` tag (a Slack ID,
 * email or @usergroup, as written), and the channel its `owners.channelTagKey` tag names. Tags are read afresh with ListTagsForResource, so a
 * changed owner tag routes the next request; if that call fails, the tags RDS gave with the
 * instance's description stand in. No tag, an empty one, or a non-RDS integration: undefined,
 * and the integration's owners approve.
 */
export class RdsResourceOwners implements ResourceOwners {
  readonly #options: RdsResourceOwnersOptions;

  constructor(options: RdsResourceOwnersOptions) {
    this.#options = options;
  }

  async ownerOf(target: Target): Promise<string | undefined> {
    return this.#tag(target, (i) => i.owners.resourceTagKey, 'owner');
  }

  /** The channel the resource's `owners.channelTagKey` tag names for its approval requests. */
  async channelOf(target: Target): Promise<string | undefined> {
    return this.#tag(target, (i) => i.owners.channelTagKey, 'channel');
  }

  async #tag(target: Target, keyOf: (i: IntegrationConfig) => string | undefined, what: string): Promise<string | undefined> {
    const integration = this.#options.integration(target.integration);
    const tagKey = integration ? keyOf(integration) : undefined;
    if (integration?.type !== 'aws-rds-postgresql' || tagKey === undefined) return undefined;
    const resource = await this.#options.resolver.resolve(integration);
    let tags = resource.tags;
    try {
      const out = await this.#options.clients.rds(resource.region).send(new ListTagsForResourceCommand({ ResourceName: resource.arn }));
      tags = tagsOf(out.TagList);
    } catch (err) {
      const failure = awsFailure(err, {
        doing: `read the tags of ${resource.identifier}`,
        action: 'rds:ListTagsForResource',
        region: resource.region,
      });
      this.#options.logger?.warn(
        { integration: integration.name, err: describeError(failure) },
        `reading the ${what} tag failed; using the tags RDS described earlier`,
      );
    }
    const value = tags[tagKey]?.trim();
    return value ? value : undefined;
  }
}
