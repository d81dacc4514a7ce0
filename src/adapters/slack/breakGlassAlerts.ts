import { eligibleApprovers, type AccessRequest } from '../../domain/request.ts';
import { describeError } from '../../logger.ts';
import type { DeliverySteps, Notification } from '../../ports/NotificationDelivery.ts';
import type { NotificationLog, NotificationRef } from '../../ports/NotificationLog.ts';
import { approvalMessage } from './blocks/approvalMessage.ts';
import { breakGlassMessage, flaggedAlert, reviewLine } from './blocks/breakGlassMessages.ts';
import type { SlackMessage } from './blocks/elements.ts';
import { section } from './blocks/elements.ts';

/** The break-glass notifications. */
export type BreakGlassNotification = Extract<Notification, { kind: 'breakGlassUsed' | 'breakGlassReviewed' | 'breakGlassReviewReminder' }>;

/** What the Slack notifier lends the break-glass alerts: its posts, DMs and the copies it remembers. */
export interface BreakGlassPosts {
  store: NotificationLog;
  adminIds?: () => Promise<string[]>;
  /** The channels the request's approval message goes to. */
  approvalChannels: (request: AccessRequest) => Promise<string[]>;
  /** DMs a person and remembers the copy under `audience`. */
  dm(request: AccessRequest, audience: NotificationRef['audience'], slackId: string, message: SlackMessage): Promise<void>;
  send(channel: string, message: SlackMessage, threadTs?: string): Promise<string>;
  update(ref: NotificationRef, message: SlackMessage): Promise<void>;
  remember(request: AccessRequest, audience: NotificationRef['audience'], channel: string, ts: string): Promise<void>;
  tellAdmins(message: SlackMessage, steps: DeliverySteps): Promise<void>;
}

/**
 * Delivers a break-glass notification (README "Break-glass"): the loud alert with Reviewed and
 * Flagged to the approval channel(s), every admin and every approver of the flow; after a
 * review, every copy updated to say who reviewed it (and a flag told to the admins); a day
 * without review, a fresh copy to each reviewer and a line in the channel's thread.
 */
export function deliverBreakGlass(notification: BreakGlassNotification, steps: DeliverySteps, posts: BreakGlassPosts): Promise<void> {
  switch (notification.kind) {
    case 'breakGlassUsed':
      return alert(notification.request, steps, posts);
    case 'breakGlassReviewed':
      return reviewed(notification.request, steps, posts);
    case 'breakGlassReviewReminder':
      return remind(notification.request, steps, posts);
  }
}

/** The admins and the request's approvers, each once, never the requester (who may not review it). */
async function reviewers(request: AccessRequest, posts: BreakGlassPosts): Promise<string[]> {
  const admins = (await posts.adminIds?.()) ?? [];
  return [...new Set([...admins, ...eligibleApprovers({ ...request, allowSelfApproval: false })])].filter(
    (id) => id !== request.requester.slackId,
  );
}

async function alert(request: AccessRequest, steps: DeliverySteps, posts: BreakGlassPosts): Promise<void> {
  const message = approvalMessage(request);
  const failures: unknown[] = [];
  const channels = await posts.approvalChannels(request);
  const sends = [
    ...channels.map((channel) =>
      steps.once(`channel ${channel}`, async () => {
        const ts = await posts.send(channel, message);
        await posts.remember(request, 'channel', channel, ts);
      }),
    ),
    ...(await reviewers(request, posts)).map((id) => steps.once(`reviewer ${id}`, () => posts.dm(request, 'approver', id, message))),
  ];
  for (const result of await Promise.allSettled(sends)) if (result.status === 'rejected') failures.push(result.reason);
  if (failures.length > 0) throw new Error(`${failures.length} break-glass alert(s) could not be sent: ${describeError(failures[0])}`);
}

async function reviewed(request: AccessRequest, steps: DeliverySteps, posts: BreakGlassPosts): Promise<void> {
  const message = approvalMessage(request);
  const refs = (await posts.store.listNotifications(request.id)).filter((r) => r.audience !== 'requester');
  await Promise.all(refs.map((ref) => posts.update(ref, message)));
  const line: SlackMessage = {
    text: `${request.id} ${request.reviewOutcome}`,
    blocks: [section(`${reviewLine(request)}: \`${request.id}\``)],
  };
  for (const ref of refs) {
    if (ref.audience === 'channel')
      await steps.once(`thread ${ref.channel} ${ref.ts}`, async () => void (await posts.send(ref.channel, line, ref.ts)));
  }
  if (request.reviewOutcome === 'flagged') await posts.tellAdmins(flaggedAlert(request), steps);
}

async function remind(request: AccessRequest, steps: DeliverySteps, posts: BreakGlassPosts): Promise<void> {
  const message = breakGlassMessage(request, undefined, true);
  for (const id of await reviewers(request, posts)) {
    await steps.once(`reviewer ${id}`, () => posts.dm(request, 'approver', id, message));
  }
  const line: SlackMessage = {
    text: `Reminder: break-glass access ${request.id} still waits for review`,
    blocks: [section(`:bell: Reminder: break-glass access \`${request.id}\` still waits for a review.`)],
  };
  for (const ref of await posts.store.listNotifications(request.id)) {
    if (ref.audience === 'channel')
      await steps.once(`thread ${ref.channel} ${ref.ts}`, async () => void (await posts.send(ref.channel, line, ref.ts)));
  }
}
