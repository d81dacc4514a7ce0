import { ConflictError } from '../../domain/errors.ts';
import type { Directory } from '../../ports/Directory.ts';

/**
 * The Directory of a process that runs without Slack (the CLI's sweep). Expiry, reconciliation
 * and the other jobs never look people up; anything that does is told why it cannot.
 */
export class NoDirectory implements Directory {
  private refuse(): never {
    throw new ConflictError('Looking up Slack users needs the bot: run `npm start` with SLACK_BOT_TOKEN set.');
  }
  async userIdByEmail(): Promise<string | undefined> {
    this.refuse();
  }
  async groupMembers(): Promise<string[] | undefined> {
    this.refuse();
  }
  async person(): Promise<never> {
    this.refuse();
  }
}
