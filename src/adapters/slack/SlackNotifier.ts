import type { webApi } from '@slack/bolt';
import type { Config, IntegrationConfig } from '../../config/schema.ts';
import { eligibleApprovers, type AccessRequest } from '../../domain/request.ts';
import { KeyedMutex } from '../../lib/KeyedMutex.ts';
import { describeError, type Logger } from '../../logger.ts';
import type { Clock } from '../../ports/Clock.ts';
import type { LeftoverReport, Notifier } from '../../ports/Notifier.ts';
import type { SessionCounts } from '../../ports/SessionAudit.ts';
import type { NotificationLog, NotificationRef } from '../../ports/NotificationLog.ts';
import { approvalMessage, statusThreadMessage } from './blocks/approvalMessage.ts';
import type { SlackMessage } from './blocks/elements.ts';
import { section } from './blocks/elements.ts';
import { expiringSoonMessage, extendedMessage, requesterMessage, supersededMessage } from './blocks/requesterMessages.ts';
import { escapeWithin, mention, targetText, truncate } from './blocks/text.ts';

/** DMs sent side by side when a request has many approvers (Slack limits each method's rate). */
const PARALLEL_DMS = 4;

/** Statuses after which the requester gets a DM of their own (besides the updated copies). */
const REQUESTER_IS_TOLD: ReadonlySet<AccessRequest['status']> = new Set(['denied', 'failed', 'timedout', 'expired', 'revoked']);

export interface SlackNotifierDeps {
  client: webApi.WebClient;
  /** The messages sent about each request and its decisions (the state store provides them). */
  store: NotificationLog;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Slack IDs of Sesame's admins, told when revocation keeps failing. */
  adminIds?: () => Promise<string[]>;
  /** An integration's config by name, configured or discovered (for its custom access details). */
  integration?: (name: string) => IntegrationConfig | undefined;
}

/** Slack rejects section text over 3,000 characters: at most this many removals are listed. */
const LEFTOVER_LINES = 12;

/** The same internal error is told to the admins once in this long, however often people meet it. */
const ALERT_QUIET_MS = 15 * 60_000;

/** What went wrong where a person was told only that it failed (see {@link SlackNotifier.internalError}). */
export interface InternalErrorAlert {
  /** What the person was doing: `command extend`, `button showCredentials`, … */
  where: string;
  /** The error's own words, for the admins: hosts, the connector, what the database said. */
  details: string;
}

/** How long a notification waits before it starts (see `enqueue`). */
const NOTIFY_SETTLE_MS = 50;
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, NOTIFY_SETTLE_MS));

/**
 * The Notifier on Slack: approval DMs and the approval channel's post with Approve / Deny, the
 * requester's DMs, every copy updated after a decision and the status posted in its thread.
 *
 * Work runs in the background, one request at a time in arrival order (an update never
 * overtakes the post it updates), so a slow or rate-limited Slack never delays a grant or a
 * revocation (PRODUCT.md §7). {@link drain} waits for what is queued, at shutdown and in tests.
 * Every message sent is remembered in the store so later updates reach every copy, across
 * restarts too.
 */
export class SlackNotifier implements Notifier {
  private readonly perRequest = new KeyedMutex();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly dmChannels = new Map<string, string>();
  private readonly alertedAt = new Map<string, number>();

  constructor(private readonly deps: SlackNotifierDeps) {}

  approvalRequested(request: AccessRequest): Promise<void> {
    return this.enqueue(request.id, 'approval requested', () => this.sendApprovalRequests(request));
  }

  requestUpdated(request: AccessRequest): Promise<void> {
    return this.enqueue(request.id, `request ${request.status}`, () => this.sendUpdate(request));
  }

  expiringSoon(request: AccessRequest): Promise<void> {
    return this.enqueue(request.id, 'expiring soon', async () => {
      await this.dm(request, 'requester', request.requester.slackId, expiringSoonMessage(request));
    });
  }

  revocationFailing(request: AccessRequest, attempts: number, error: string): Promise<void> {
    return this.enqueue(request.id, 'revocation failing', async () => {
      const text = `Revoking ${request.id} keeps failing`;
      const head = `:rotating_light: Revoking \`${request.id}\` (${mention(request.requester.slackId)}, \`${targetText(request)}\`) has failed ${attempts} times.`;
      const retrying = "Sesame keeps retrying; the user's VALID UNTIL keeps new logins out meanwhile.";
      // The approval channel may include the requester: it gets what happened, the admins why.
      await this.tellAdmins({
        text,
        blocks: [
          section(
            `${head} Database user \`${escapeWithin(request.dbUser ?? '?', 200)}\`: ${escapeWithin(error, 1500)}\n${retrying} Check that the database is reachable.`,
          ),
        ],
      });
      const channel = this.deps.config.slack.approvalChannel;
      if (channel) await this.send(channel, { text, blocks: [section(`${head} ${retrying} Sesame's admins were told what went wrong.`)] });
    });
  }

  /**
   * Tells the admins what Sesame removed from what a person (or a shared role) left behind:
   * planted triggers, privileges handed out, objects. The definitions stay in the audit trail;
   * the message lists what and where, within Slack's limits.
   */
  leftoversRemoved(report: LeftoverReport): Promise<void> {
    return this.enqueue(report.requestId ?? 'admin alerts', 'leftovers removed', async () => {
      const whose = report.dbUser ? `database user \`${escapeWithin(report.dbUser, 200)}\`` : "Sesame's shared group roles";
      const lines = report.removals.slice(0, LEFTOVER_LINES).map((r) => {
        const where = r.database ? ` in \`${escapeWithin(r.database, 100)}\`` : '';
        const to = r.grantee ? ` (to ${escapeWithin(r.grantee, 100)})` : '';
        return `• ${escapeWithin(r.what, 60)}: ${escapeWithin(r.object, 300)}${to}${where}`;
      });
      const more = report.removals.length > LEFTOVER_LINES ? `\n…and ${report.removals.length - LEFTOVER_LINES} more.` : '';
      const request = report.requestId ? ` when \`${report.requestId}\` ended` : '';
      const text = `:broom: On \`${escapeWithin(report.integration, 100)}\`, Sesame removed what ${whose} left behind${request}:\n${lines.join('\n')}${more}\nThe audit trail (\`sesame audit\`, action leftover.removed) holds each definition.`;
      await this.tellAdmins({
        text: `Sesame removed what ${report.dbUser ?? 'a shared role'} left behind`,
        blocks: [section(truncate(text, 2900))],
      });
    });
  }

  /**
   * Tells the admins, by DM, the details of an error a person met and was told about only in
   * general words (PRODUCT.md §6). The same details are sent once per quiet period, so a
   * database that is down does not page the admins at every click.
   */
  internalError(alert: InternalErrorAlert): Promise<void> {
    const now = this.deps.clock.now().getTime();
    const last = this.alertedAt.get(alert.details);
    if (last !== undefined && now - last < ALERT_QUIET_MS) return Promise.resolve();
    this.alertedAt.set(alert.details, now);
    const line = `:rotating_light: Something a person asked Sesame for failed (\`${escapeWithin(alert.where, 100)}\`): ${escapeWithin(alert.details, 2500)}\nThey were told that it failed and that the admins know.`;
    return this.enqueue('admin alerts', 'internal error', () =>
      this.tellAdmins({ text: 'Sesame: something a person asked for failed', blocks: [section(line)] }),
    );
  }

  /**
   * Reminds the approvers who have not decided yet with a fresh copy of the approval message (a
   * new DM notifies; an old one scrolled away), remembered like the first so every copy is
   * updated after the decision; the channel's post gets a line in its thread.
   */
  approvalReminder(request: AccessRequest): Promise<void> {
    return this.enqueue(request.id, 'approval reminder', async () => {
      const approvals = await this.deps.store.listApprovals(request.id);
      const decided = new Set(approvals.map((a) => a.approverId));
      const message = approvalMessage(request, approvals);
      for (const id of eligibleApprovers(request)) {
        if (!decided.has(id)) await this.dm(request, 'approver', id, message);
      }
      const reminder: SlackMessage = {
        text: `Reminder: ${request.id} still waits for approval`,
        blocks: [section(`:bell: Reminder: \`${request.id}\` still waits for a decision.`)],
      };
      for (const ref of await this.deps.store.listNotifications(request.id)) {
        if (ref.audience === 'channel') await this.send(ref.channel, reminder, ref.ts);
      }
    });
  }

  /** Posts what was done with an ended grant (sessions, statements) in the thread of every copy. */
  sessionsCounted(request: AccessRequest, counts: SessionCounts): Promise<void> {
    return this.enqueue(request.id, 'session counts', async () => {
      const line = `:bar_chart: \`${request.id}\` was used for ${counts.sessions} session${counts.sessions === 1 ? '' : 's'} and ${counts.statements} audited statement${counts.statements === 1 ? '' : 's'}.`;
      const message: SlackMessage = { text: line, blocks: [section(line)] };
      for (const ref of await this.deps.store.listNotifications(request.id)) {
        if (ref.audience !== 'requester') await this.send(ref.channel, message, ref.ts);
      }
    });
  }

  /** Resolves when every notification queued so far has been sent (or has failed and been logged). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private enqueue(requestId: string, what: string, work: () => Promise<void>): Promise<void> {
    // A notification starts a moment after it is asked for: the database work that usually
    // follows a decision (the grant) then runs without Slack calls in the same process; nobody
    // notices 50 ms on a message, and access is ready sooner. The queue keeps each request's order.
    const run = settle()
      .then(() => this.perRequest.run(requestId, work))
      .catch((err) => {
        this.deps.logger.warn({ requestId, notification: what, err: describeError(err) }, 'Slack notification failed');
      });
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return Promise.resolve();
  }

  private async sendApprovalRequests(request: AccessRequest): Promise<void> {
    const message = approvalMessage(request);
    const approvers = eligibleApprovers(request);
    const failures: unknown[] = [];
    for (let i = 0; i < approvers.length; i += PARALLEL_DMS) {
      const batch = approvers.slice(i, i + PARALLEL_DMS);
      const results = await Promise.allSettled(batch.map((id) => this.dm(request, 'approver', id, message)));
      for (const r of results) if (r.status === 'rejected') failures.push(r.reason);
    }
    const channel = this.deps.config.slack.approvalChannel;
    if (channel) {
      try {
        const ts = await this.send(channel, message);
        await this.remember(request, 'channel', channel, ts);
      } catch (err) {
        failures.push(err);
      }
    }
    await this.dm(request, 'requester', request.requester.slackId, requesterMessage(request, this.requesterContext(request)));
    if (failures.length > 0) {
      throw new Error(`${failures.length} approval message(s) could not be sent: ${describeError(failures[0])}`);
    }
  }

  private async sendUpdate(request: AccessRequest): Promise<void> {
    const refs = await this.deps.store.listNotifications(request.id);
    const approvals = await this.deps.store.listApprovals(request.id);
    const approvalCopy = approvalMessage(request, approvals);
    const thread = statusThreadMessage(request, approvals);
    const extended = request.status === 'granted' && isExtended(request);
    const postInThreads = !extended;
    const requesterCopy = requesterMessage(request, this.requesterContext(request));
    // The newest of the requester's messages shows the request as it stands, with its buttons;
    // older ones shrink to a line. A first grant or an ending is told in a new DM, so all of the
    // earlier ones shrink then.
    const firstGrant = request.status === 'granted' && !extended;
    const toldAnew = firstGrant || REQUESTER_IS_TOLD.has(request.status);
    const newestRequesterCopy = toldAnew ? undefined : refs.filter((r) => r.audience === 'requester').at(-1);
    // Reminders leave several copies in one DM: all are updated, but the status goes only into
    // the thread of the newest copy in each channel, so nobody reads it twice.
    const newestPerChannel = new Map<string, NotificationRef>();
    for (const ref of refs) if (ref.audience !== 'requester') newestPerChannel.set(ref.channel, ref);
    const failures: unknown[] = [];
    await Promise.all(
      refs.map(async (ref) => {
        try {
          if (ref.audience === 'requester') {
            await this.update(ref, ref === newestRequesterCopy ? requesterCopy : supersededMessage(request));
            return;
          }
          await this.update(ref, approvalCopy);
          if (postInThreads && newestPerChannel.get(ref.channel) === ref) await this.send(ref.channel, thread, ref.ts);
        } catch (err) {
          failures.push(err);
        }
      }),
    );
    const requester = request.requester.slackId;
    if (firstGrant) await this.dm(request, 'requester', requester, requesterCopy);
    else if (toldAnew) await this.dm(request, undefined, requester, requesterCopy);
    else if (extended) await this.dm(request, undefined, requester, extendedMessage(request));
    // The requester and the approval copies say only that it failed; the admins get why.
    if (request.status === 'failed') await this.tellAdmins(failedGrantAlert(request));
    if (failures.length > 0) throw new Error(`${failures.length} copies could not be updated: ${describeError(failures[0])}`);
  }

  /**
   * DMs every admin (and posts in `channel`, when given). One admin Slack cannot reach must not
   * keep the others from hearing it; with no admin configured, the log is where it is said.
   */
  private async tellAdmins(message: SlackMessage, channel?: string): Promise<void> {
    const admins = (await this.deps.adminIds?.()) ?? [];
    if (admins.length === 0 && !channel) {
      this.deps.logger.error({ alert: message.text }, 'no Sesame admin to tell: name some under slack.admins');
      return;
    }
    const sent = await Promise.allSettled([
      ...admins.map(async (admin) => this.send(await this.dmChannel(admin), message)),
      ...(channel ? [this.send(channel, message)] : []),
    ]);
    const failed = sent.filter((r) => r.status === 'rejected');
    if (failed.length > 0)
      throw new Error(
        `${failed.length} of ${sent.length} alerts could not be sent: ${describeError((failed[0] as PromiseRejectedResult).reason)}`,
      );
  }

  private requesterContext(request: AccessRequest) {
    const integration =
      this.deps.integration?.(request.target.integration) ??
      this.deps.config.integrations.find((i) => i.name === request.target.integration);
    return { customAccessDetails: integration?.customAccessDetails };
  }

  /** Opens (once) the DM with a person, posts, and remembers the copy under `audience`. */
  private async dm(request: AccessRequest, audience: NotificationRef['audience'] | undefined, slackId: string, message: SlackMessage) {
    const channel = await this.dmChannel(slackId);
    const ts = await this.send(channel, message);
    if (audience) await this.remember(request, audience, channel, ts, slackId);
  }

  private async dmChannel(slackId: string): Promise<string> {
    const known = this.dmChannels.get(slackId);
    if (known) return known;
    const res = await this.deps.client.conversations.open({ users: slackId });
    const id = res.channel?.id;
    if (!id) throw new Error(`Slack opened no DM with ${slackId}.`);
    this.dmChannels.set(slackId, id);
    return id;
  }

  private async send(channel: string, message: SlackMessage, threadTs?: string): Promise<string> {
    const res = await this.deps.client.chat.postMessage({
      channel,
      text: message.text,
      blocks: message.blocks,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    if (!res.ts) throw new Error(`Slack returned no message timestamp for a post in ${channel}.`);
    return res.ts;
  }

  private async update(ref: NotificationRef, message: SlackMessage): Promise<void> {
    await this.deps.client.chat.update({ channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks });
  }

  private async remember(request: AccessRequest, audience: NotificationRef['audience'], channel: string, ts: string, recipient?: string) {
    await this.deps.store.addNotification({
      requestId: request.id,
      audience,
      ...(recipient ? { recipient } : {}),
      channel,
      ts,
      at: this.deps.clock.now(),
    });
  }
}

/** The admins' alert about a request that failed: who, what, and the error as recorded. */
function failedGrantAlert(request: AccessRequest): SlackMessage {
  const requester = mention(request.requester.slackId);
  const subject =
    request.kind === 'extension' ? `Extending \`${request.parentId}\` by request \`${request.id}\`` : `Granting \`${request.id}\``;
  const line =
    `:rotating_light: ${subject} for ${requester} (\`${request.permission}\` on \`${targetText(request)}\`) failed: ` +
    `${escapeWithin(request.lastError ?? 'no error was recorded', 2500)}\n` +
    `${requester} was told that it failed and that the admins know; nothing is left granted.`;
  return { text: `Sesame: ${request.id} failed`, blocks: [section(line)] };
}

/**
 * True when a granted request's expiry lies beyond its own duration from the grant: an
 * extension moved it. A first grant sets the expiry before the database work and records the
 * grant after it, so its expiry is never later than grantedAt + duration.
 */
export function isExtended(request: AccessRequest): boolean {
  if (!request.grantedAt || !request.expiresAt) return false;
  return request.expiresAt.getTime() > request.grantedAt.getTime() + request.durationMinutes * 60_000;
}
