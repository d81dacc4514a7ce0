import { NotFoundError } from '../../domain/errors.ts';
import type { webApi } from '@slack/bolt';
import type { Person } from '../../domain/request.ts';
import type { Clock } from '../../ports/Clock.ts';
import type { Directory, Lookup } from '../../ports/Directory.ts';

/** How long answers about people and groups are reused before Slack is asked again. */
const CACHE_TTL_MS = 5 * 60_000;

interface Cached<T> {
  value: T;
  at: number;
}

/**
 * The Directory on Slack's Web API: users.lookupByEmail, users.info (the email needs the
 * users:read.email scope), usergroups.list and usergroups.users.list. Answers are cached for a
 * few minutes: Slack rate-limits these methods (Tier 2–4) and approvals ask the same questions
 * again and again. A `fresh` lookup asks Slack again and refreshes the cache.
 */
export class SlackDirectory implements Directory {
  private readonly cache = new Map<string, Cached<unknown>>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly clock: Clock,
  ) {}

  private async cached<T>(key: string, load: () => Promise<T>, lookup: Lookup = {}): Promise<T> {
    const hit = this.cache.get(key);
    const now = this.clock.now().getTime();
    if (hit && !lookup.fresh && now - hit.at < CACHE_TTL_MS) return hit.value as T;
    const value = await load();
    this.cache.set(key, { value, at: now });
    return value;
  }

  userIdByEmail(email: string, lookup?: Lookup): Promise<string | undefined> {
    return this.cached(
      `email:${email.toLowerCase()}`,
      async () => {
        try {
          const res = await this.client.users.lookupByEmail({ email });
          return res.user?.id;
        } catch (err) {
          if ((err as { data?: { error?: string } }).data?.error === 'users_not_found') return undefined;
          throw err;
        }
      },
      lookup,
    );
  }

  groupMembers(handle: string, lookup?: Lookup): Promise<string[] | undefined> {
    return this.cached(
      `group:${handle.toLowerCase()}`,
      async () => {
        const groups = await this.cached('groups', async () => (await this.client.usergroups.list({})).usergroups ?? [], lookup);
        const group = groups.find((g) => g.handle?.toLowerCase() === handle.toLowerCase());
        if (!group?.id) return undefined;
        const res = await this.client.usergroups.users.list({ usergroup: group.id });
        return res.users ?? [];
      },
      lookup,
    );
  }

  async person(slackId: string): Promise<Person> {
    const { email } = await this.info(slackId);
    return email ? { slackId, email } : { slackId };
  }

  async isDeactivated(slackId: string): Promise<boolean> {
    return (await this.info(slackId)).deleted;
  }

  private info(slackId: string): Promise<{ email?: string; deleted: boolean }> {
    return this.cached(`user:${slackId}`, async () => {
      const res = await this.client.users.info({ user: slackId }).catch((err: unknown) => {
        // Nobody by that ID: a person who is not in the workspace, not a failure to reach Slack.
        if ((err as { data?: { error?: string } }).data?.error === 'user_not_found') {
          throw new NotFoundError(`Slack knows no member ${slackId} in this workspace.`);
        }
        throw err;
      });
      const email = res.user?.profile?.email?.toLowerCase();
      return { ...(email ? { email } : {}), deleted: res.user?.deleted === true };
    });
  }
}
