import { quorumOf } from '../../domain/flows.ts';
import type { webApi } from '@slack/bolt';
import type { Config, IntegrationConfig } from '../../config/schema.ts';
import { eligibleApprovers, type AccessRequest } from '../../domain/request.ts';
import { describeError, type Logger } from '../../logger.ts';
import type { Clock } from '../../ports/Clock.ts';
import type { DeliverySteps, InternalErrorAlert, Notification, NotificationDelivery } from '../../ports/NotificationDelivery.ts';
import type { DepartureNotice, LeftoverReport } from '../../ports/Notifier.ts';
import type { SessionSummary } from '../../ports/SessionAudit.ts';
import type { NotificationLog, NotificationRef } from '../../ports/NotificationLog.ts';
import type { RequestStore } from '../../ports/RequestStore.ts';
import { partMovedLine, partsMessage } from './blocks/partsMessage.ts';
import { sessionsMessage } from './blocks/sessionsMessage.ts';
import { approvalMessage, statusThreadMessage } from './blocks/approvalMessage.ts';
import type { SlackMessage } from './blocks/elements.ts';
import { section } from './blocks/elements.ts';
import { deliverBreakGlass } from './breakGlassAlerts.ts';
import { expiringSoonMessage, extendedMessage, requesterMessage, supersededMessage } from './blocks/requesterMessages.ts';
import { escapeWithin, mention, targetText, truncate } from './blocks/text.ts';

/** DMs sent side by side when a request has many approvers (Slack limits each method's rate). */
const PARALLEL_DMS = 4;

/** Statuses after which the requester gets a DM of their own (besides the updated copies). */
const REQUESTER_IS_TOLD: ReadonlySet<AccessRequest['status']> = new Set(['denied', 'failed', 'timedout', 'expired', 'revoked']);

export interface SlackNotifierDeps {
  client: webApi.WebClient;
  /**
   * The messages sent about each request and its decisions, and the parts of a request for
   * several targets (the state store provides them).
   */
  store: NotificationLog & Pick<RequestStore, 'listRequests'>;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Slack IDs of Sesame's admins, told when revocation keeps failing. */
  adminIds?: () => Promise<string[]>;
  /**
   * The channels a request's approval message is posted in (its integration's own, or beside it
   * the approval channel); `slack.approvalChannel` alone when absent.
   */
  approvalChannels?: (request: AccessRequest) => Promise<string[]>;
  /** An integration's config by name, configured or discovered (for its custom access details). */
  integration?: (name: string) => IntegrationConfig | undefined;
}

/** Slack rejects section text over 3,000 characters: at most this many removals are listed. */
const LEFTOVER_LINES = 12;

export type { InternalErrorAlert } from '../../ports/NotificationDelivery.ts';

/**
 * The notifications on Slack: approval DMs and the approval channel's post with Approve / Deny,
 * the requester's DMs, every copy updated after a decision and the status posted in its thread,
 * the admins' alerts.
 *
 * The outbox hands it one notification at a time per request. Each post is a named step: one
 * an earlier attempt made is not made again, and each made is recorded at once. Updates
 * (`chat.update`) can be made twice without harm and are no steps. Every message sent is
 * remembered in the store so later updates reach every copy, across restarts and replicas too.
 */
export class SlackNotifier implements NotificationDelivery {
  readonly medium = 'Slack';
  private readonly dmChannels = new Map<string, string>();

  constructor(private readonly deps: SlackNotifierDeps) {}

  deliver(notification: Notification, steps: DeliverySteps): Promise<void> {
    switch (notification.kind) {
      case 'approvalRequested':
        return this.sendApprovalRequests(notification.request, steps);
      case 'requestUpdated':
        return this.sendUpdate(notification.request, steps);
      case 'expiringSoon': {
        const { request } = notification;
        return steps.once('requester', () => this.dm(request, 'requester', request.requester.slackId, expiringSoonMessage(request)));
      }
      case 'revocationFailing':
        return this.revocationFailing(notification.request, notification.attempts, notification.error, steps);
      case 'approvalReminder':
        return this.approvalReminder(notification.request, steps);
      case 'sessionsCounted':
        return this.sessionsCounted(notification.request, notification.counts, steps);
      case 'leftoversRemoved':
        return this.leftoversRemoved(notification.report, steps);
      case 'internalError':
        return this.internalError(notification.alert, steps);
      case 'personDeactivated':
        return this.personDeactivated(notification.report, steps);
      case 'breakGlassUsed':
      case 'breakGlassReviewed':
      case 'breakGlassReviewReminder':
        return deliverBreakGlass(notification, steps, {
          ...this.deps,
          approvalChannels: (request) => this.approvalChannels(request),
          dm: (request, audience, slackId, message) => this.dm(request, audience, slackId, message),
          send: (channel, message, threadTs) => this.send(channel, message, threadTs),
          update: (ref, message) => this.update(ref, message),
          remember: (request, audience, channel, ts) => this.remember(request, audience, channel, ts),
          tellAdmins: (message, alertSteps) => this.tellAdmins(message, alertSteps),
        });
    }
  }

  /** Tells the admins that a person who left lost every grant and request, naming each. */
  private async personDeactivated(report: DepartureNotice, steps: DeliverySteps): Promise<void> {
    const ids = (list: string[]) => (list.length > 0 ? list.map((id) => `\`${id}\``).join(', ') : 'none');
    const lines = [
      `:door: ${mention(report.slackId)} was deactivated in Slack. Sesame revoked their grants and ended their sessions: ${ids(report.revoked)}.`,
      `Requests that will not be granted: ${ids(report.cancelled)}.`,
      ...(report.failing.length > 0 ? [`Revocation failed and is being retried: ${ids(report.failing)}.`] : []),
    ];
    await this.tellAdmins(
      { text: `Sesame ended the access of a person who left (${report.slackId})`, blocks: [section(truncate(lines.join('\n'), 2900))] },
      steps,
    );
  }

  private async revocationFailing(request: AccessRequest, attempts: number, error: string, steps: DeliverySteps): Promise<void> {
    const text = `Revoking ${request.id} keeps failing`;
    const head = `:rotating_light: Revoking \`${request.id}\` (${mention(request.requester.slackId)}, \`${targetText(request)}\`) has failed ${attempts} times.`;
    const retrying = "Sesame keeps retrying; the user's VALID UNTIL keeps new logins out meanwhile.";
    // The approval channel may include the requester: it gets what happened, the admins why.
    await this.tellAdmins(
      {
        text,
        blocks: [
          section(
            `${head} Database user \`${escapeWithin(request.dbUser ?? '?', 200)}\`: ${escapeWithin(error, 1500)}\n${retrying} Check that the database is reachable.`,
          ),
        ],
      },
      steps,
    );
    const channel = this.deps.config.slack.approvalChannel;
    if (channel) {
      const message = { text, blocks: [section(`${head} ${retrying} Sesame's admins were told what went wrong.`)] };
      await steps.once('channel', async () => void (await this.send(channel, message)));
    }
  }

  /**
   * Tells the admins what Sesame removed from what a person (or a shared role) left behind:
   * planted triggers, privileges handed out, objects. The definitions stay in the audit trail;
   * the message lists what and where, within Slack's limits.
   */
  private async leftoversRemoved(report: LeftoverReport, steps: DeliverySteps): Promise<void> {
    const whose = report.dbUser ? `database user \`${escapeWithin(report.dbUser, 200)}\`` : "Sesame's shared group roles";
    const lines = report.removals.slice(0, LEFTOVER_LINES).map((r) => {
      const where = r.database ? ` in \`${escapeWithin(r.database, 100)}\`` : '';
      const to = r.grantee ? ` (to ${escapeWithin(r.grantee, 100)})` : '';
      return `• ${escapeWithin(r.what, 60)}: ${escapeWithin(r.object, 300)}${to}${where}`;
    });
    const more = report.removals.length > LEFTOVER_LINES ? `\n…and ${report.removals.length - LEFTOVER_LINES} more.` : '';
    const request = report.requestId ? ` when \`${report.requestId}\` ended` : '';
    const text = `:broom: On \`${escapeWithin(report.integration, 100)}\`, Sesame removed what ${whose} left behind${request}:\n${lines.join('\n')}${more}\nThe audit trail (\`sesame audit\`, action leftover.removed) holds each definition.`;
    await this.tellAdmins(
      { text: `Sesame removed what ${report.dbUser ?? 'a shared role'} left behind`, blocks: [section(truncate(text, 2900))] },
      steps,
    );
  }

  /**
   * Tells the admins, by DM, the details of an error a person met and was told about only in
   * general words (PRODUCT.md §6); the notifier keeps the quiet period between two of the same.
   */
  private internalError(alert: InternalErrorAlert, steps: DeliverySteps): Promise<void> {
    const line = `:rotating_light: Something a person asked Sesame for failed (\`${escapeWithin(alert.where, 100)}\`): ${escapeWithin(alert.details, 2500)}\nThey were told that it failed and that the admins know.`;
    return this.tellAdmins({ text: 'Sesame: something a person asked for failed', blocks: [section(line)] }, steps);
  }

  /**
   * Reminds the approvers who have not decided yet with a fresh copy of the approval message (a
   * new DM notifies; an old one scrolled away), remembered like the first so every copy is
   * updated after the decision; the channel's post gets a line in its thread.
   */
  private async approvalReminder(request: AccessRequest, steps: DeliverySteps): Promise<void> {
    const approvals = await this.deps.store.listApprovals(request.id);
    const decided = new Set(approvals.map((a) => a.approverId));
    const message = approvalMessage(request, approvals, quorumOf(this.deps.config.accessFlows, request.flowName));
    for (const id of eligibleApprovers(request)) {
      if (!decided.has(id)) await steps.once(`approver ${id}`, () => this.dm(request, 'approver', id, message));
    }
    const reminder: SlackMessage = {
      text: `Reminder: ${request.id} still waits for approval`,
      blocks: [section(`:bell: Reminder: \`${request.id}\` still waits for a decision.`)],
    };
    for (const ref of await this.deps.store.listNotifications(request.id)) {
      if (ref.audience === 'channel') await this.inThread(ref, reminder, steps);
    }
  }

  /** Posts what was done with an ended grant (sessions, statements) in the thread of every copy. */
  private async sessionsCounted(request: AccessRequest, counts: SessionSummary, steps: DeliverySteps): Promise<void> {
    const message = sessionsMessage(request, counts, this.deps.config.slack.command);
    for (const ref of await this.deps.store.listNotifications(request.id)) {
      if (ref.audience !== 'requester') await this.inThread(ref, message, steps);
    }
  }

  /** Posts `message` in the thread of the copy `ref`, once. */
  private inThread(ref: NotificationRef, message: SlackMessage, steps: DeliverySteps): Promise<void> {
    return steps.once(`thread ${ref.channel} ${ref.ts}`, async () => void (await this.send(ref.channel, message, ref.ts)));
  }

  private async sendApprovalRequests(request: AccessRequest, steps: DeliverySteps): Promise<void> {
    const message = approvalMessage(request, [], quorumOf(this.deps.config.accessFlows, request.flowName));
    const approvers = eligibleApprovers(request);
    const failures: unknown[] = [];
    for (let i = 0; i < approvers.length; i += PARALLEL_DMS) {
      const batch = approvers.slice(i, i + PARALLEL_DMS);
      const results = await Promise.allSettled(
        batch.map((id) => steps.once(`approver ${id}`, () => this.dm(request, 'approver', id, message))),
      );
      for (const r of results) if (r.status === 'rejected') failures.push(r.reason);
    }
    const fallback = this.deps.config.slack.approvalChannel;
    for (const channel of await this.approvalChannels(request)) {
      try {
        await steps.once(channel === fallback ? 'channel' : `channel ${channel}`, async () => {
          const ts = await this.send(channel, message);
          await this.remember(request, 'channel', channel, ts);
        });
      } catch (err) {
        failures.push(err);
      }
    }
    if (request.groupId) await this.refreshParts(request.groupId, steps);
    else {
      const waiting = requesterMessage(request, this.requesterContext(request));
      await steps.once('requester', () => this.dm(request, 'requester', request.requester.slackId, waiting));
    }
    if (failures.length > 0) {
      throw new Error(`${failures.length} approval message(s) could not be sent: ${describeError(failures[0])}`);
    }
  }

  private async sendUpdate(request: AccessRequest, steps: DeliverySteps): Promise<void> {
    const refs = await this.deps.store.listNotifications(request.id);
    const approvals = await this.deps.store.listApprovals(request.id);
    const approvalCopy = approvalMessage(request, approvals, quorumOf(this.deps.config.accessFlows, request.flowName));
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
    const grouped = request.groupId !== undefined;
    await Promise.all(
      refs.map(async (ref) => {
        try {
          if (ref.audience === 'requester') {
            // A part's requester copy is the one DM of the whole request, refreshed below.
            if (grouped) return;
            await this.update(ref, ref === newestRequesterCopy ? requesterCopy : supersededMessage(request));
            return;
          }
          await this.update(ref, approvalCopy);
          if (postInThreads && newestPerChannel.get(ref.channel) === ref) await this.inThread(ref, thread, steps);
        } catch (err) {
          failures.push(err);
        }
      }),
    );
    const requester = request.requester.slackId;
    if (request.groupId) await this.refreshParts(request.groupId, steps, toldAnew || extended ? partMovedLine(request) : undefined);
    else if (firstGrant) await steps.once('requester', () => this.dm(request, 'requester', requester, requesterCopy));
    else if (toldAnew) await steps.once('requester', () => this.dm(request, undefined, requester, requesterCopy));
    else if (extended) await steps.once('requester', () => this.dm(request, undefined, requester, extendedMessage(request)));
    // The requester and the approval copies say only that it failed; the admins get why.
    if (request.status === 'failed') await this.tellAdmins(failedGrantAlert(request), steps);
    if (failures.length > 0) throw new Error(`${failures.length} copies could not be updated: ${describeError(failures[0])}`);
  }

  /**
   * Posts (once) or updates the requester's one DM about a request for several targets, drawn
   * from every part as the store has it now; the parts' notifications share one outbox key, so
   * they are delivered in order. `moved`, when given, is said in the DM's thread. The DM is
   * remembered under the first part.
   */
  private async refreshParts(groupId: string, steps: DeliverySteps, moved?: SlackMessage): Promise<void> {
    const parts = (await this.deps.store.listRequests({ groupId })).sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    const holder = parts[0];
    if (!holder) return;
    const message = partsMessage(groupId, parts);
    const copies = (await this.deps.store.listNotifications(holder.id)).filter((r) => r.audience === 'requester');
    if (copies.length === 0) {
      await steps.once('parts', () => this.dm(holder, 'requester', holder.requester.slackId, message));
      return;
    }
    for (const ref of copies) await this.update(ref, message);
    if (moved) await this.inThread(copies[0]!, moved, steps);
  }

  /** The channels a request's approval message goes to: its integration's own, or `slack.approvalChannel`. */
  private approvalChannels(request: AccessRequest): Promise<string[]> {
    const fallback = this.deps.config.slack.approvalChannel;
    return this.deps.approvalChannels ? this.deps.approvalChannels(request) : Promise.resolve(fallback ? [fallback] : []);
  }

  /**
   * DMs every admin, each once. One admin Slack cannot reach must not keep the others from
   * hearing it; with no admin configured, the log is where it is said.
   */
  private async tellAdmins(message: SlackMessage, steps: DeliverySteps): Promise<void> {
    const admins = (await this.deps.adminIds?.()) ?? [];
    if (admins.length === 0) {
      this.deps.logger.error({ alert: message.text }, 'no Sesame admin to tell: name some under slack.admins');
      return;
    }
    const sent = await Promise.allSettled(
      admins.map((admin) => steps.once(`admin ${admin}`, async () => void (await this.send(await this.dmChannel(admin), message)))),
    );
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
