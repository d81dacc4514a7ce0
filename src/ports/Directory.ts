import type { Person } from '../domain/request.ts';

/**
 * How fresh an answer must be. A directory may reuse recent answers (Slack rate-limits these
 * lookups); `fresh` asks the source itself, for decisions that must follow a change at once,
 * such as who may approve when a click arrives.
 */
export interface Lookup {
  fresh?: boolean;
}

/** Resolves the people that config entries name (emails, user groups) into Slack user IDs. */
export interface Directory {
  /** Slack user ID for an email, or undefined when nobody has it. */
  userIdByEmail(email: string, lookup?: Lookup): Promise<string | undefined>;
  /** Members of a user group by its handle (without `@`); undefined when no such group. */
  groupMembers(handle: string, lookup?: Lookup): Promise<string[] | undefined>;
  /** The person behind a Slack user ID, with the email when Slack gives it. */
  person(slackId: string): Promise<Person>;
  /** True when the person was deactivated (Slack's `deleted`); optional: a directory may not know. */
  isDeactivated?(slackId: string): Promise<boolean>;
}
