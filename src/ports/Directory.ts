import type { Person } from '../domain/request.ts';

/** Resolves the people that config entries name (emails, user groups) into Slack user IDs. */
export interface Directory {
  /** Slack user ID for an email, or undefined when nobody has it. */
  userIdByEmail(email: string): Promise<string | undefined>;
  /** Members of a user group by its handle (without `@`); undefined when no such group. */
  groupMembers(handle: string): Promise<string[] | undefined>;
  /** The person behind a Slack user ID, with the email when Slack gives it. */
  person(slackId: string): Promise<Person>;
}
