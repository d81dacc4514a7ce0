/**
 * The stand-in's workspace: its IDs (team, app, bot), its people, user groups and channels, and
 * how Slack resolves a `channel` argument (a channel ID or name, a person's ID, a DM's ID) and
 * shows a person in users.* answers.
 */
import type { SlackStandInOptions, StandInChannel, StandInUser, StandInUsergroup } from './standInModel.ts';

/** Seconds east of UTC of a time zone at an instant: Slack's `tz_offset`. */
function tzOffsetSeconds(timeZone: string, at: number): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  if (!match) return 0;
  const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60;
  return match[1] === '-' ? -seconds : seconds;
}

function tzLabel(timeZone: string, at: number): string {
  return (
    new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'long' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ??
    timeZone
  );
}

export class StandInDirectory {
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly appId: string;
  readonly botUserId: string;
  readonly botId: string;
  /** The clock trigger_id and response_url lifetimes are measured with. */
  readonly now: () => number;

  protected readonly users = new Map<string, StandInUser>();
  protected readonly usergroups = new Map<string, StandInUsergroup>();
  protected readonly channels = new Map<string, StandInChannel>();

  protected constructor(options: SlackStandInOptions) {
    this.botToken = options.botToken ?? 'xoxb-0000-fake-bot-token';
    this.appToken = options.appToken ?? 'xapp-1-A0FAKEAPP-0000-fake-app-token';
    this.teamId = options.teamId ?? 'T0FAKETEAM';
    this.teamDomain = options.teamDomain ?? 'sesame-test';
    this.appId = options.appId ?? 'A0FAKEAPP';
    this.botUserId = options.botUserId ?? 'U0FAKEBOT';
    this.botId = options.botId ?? 'B0FAKEBOT';
    this.now = options.now ?? (() => Date.now());
    for (const user of options.users ?? []) this.addUser(user);
    for (const group of options.usergroups ?? []) this.addUsergroup(group);
    for (const channel of options.channels ?? []) this.addChannel(channel);
  }

  addUser(user: StandInUser): void {
    this.users.set(user.id, user);
  }

  addUsergroup(group: StandInUsergroup): void {
    this.usergroups.set(group.id, group);
  }

  addChannel(channel: StandInChannel): void {
    this.channels.set(channel.id, channel);
  }

  /** The user, or an error naming the ID when the directory has no such person. */
  user(id: string): StandInUser {
    const user = this.users.get(id);
    if (!user) throw new Error(`the Slack stand-in has no user ${id}; add it to the directory`);
    return user;
  }

  /** The user, or undefined when the directory has no such person. */
  findUser(id: string): StandInUser | undefined {
    return this.users.get(id);
  }

  /** Every person, in the order added. */
  allUsers(): StandInUser[] {
    return [...this.users.values()];
  }

  /** A user group by ID. */
  usergroup(id: string): StandInUsergroup | undefined {
    return this.usergroups.get(id);
  }

  /** Every user group, in the order added. */
  allUsergroups(): StandInUsergroup[] {
    return [...this.usergroups.values()];
  }

  /** The ID of the DM between the bot and a user: stable per user, as conversations.open gives it. */
  dmChannelId(userId: string): string {
    return `D${userId.replace(/^[UW]/, '')}`;
  }

  private userOfDm(channel: string): StandInUser | undefined {
    return [...this.users.values()].find((u) => this.dmChannelId(u.id) === channel);
  }

  /** A channel ID, a channel name, a user ID (its DM) or a DM ID, resolved to the channel ID; undefined when unknown. */
  resolveChannel(channel: unknown): string | undefined {
    if (typeof channel !== 'string' || channel.length === 0) return undefined;
    if (this.channels.has(channel)) return channel;
    if (this.users.has(channel)) return this.dmChannelId(channel);
    if (this.userOfDm(channel)) return channel;
    const name = channel.replace(/^#/, '');
    return [...this.channels.values()].find((c) => c.name === name)?.id;
  }

  /** A person as users.info and users.lookupByEmail show them. */
  userPayload(user: StandInUser): Record<string, unknown> {
    const tz = user.tz ?? 'UTC';
    return {
      id: user.id,
      team_id: this.teamId,
      name: user.name,
      real_name: user.realName ?? user.name,
      deleted: user.deleted ?? false,
      is_bot: user.isBot ?? false,
      tz,
      tz_label: tzLabel(tz, this.now()),
      tz_offset: tzOffsetSeconds(tz, this.now()),
      profile: {
        real_name: user.realName ?? user.name,
        display_name: user.name,
        ...(user.email ? { email: user.email } : {}),
      },
    };
  }
}
