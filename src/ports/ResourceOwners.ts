import type { Target } from '../domain/target.ts';

/**
 * Who owns a resource, from where the resource says so (an RDS tag). Returns the owner as
 * written (a Slack ID, email or @usergroup), or undefined when the resource names none.
 */
export interface ResourceOwners {
  ownerOf(target: Target): Promise<string | undefined>;
  /** The Slack channel the resource names for its approval requests (an RDS tag), if any. */
  channelOf?(target: Target): Promise<string | undefined>;
}
