import type { webApi } from '@slack/bolt';
import { markRecorded, runRecorded } from '../../../lib/recorded.ts';
import type { WorkQueue } from '../../../lib/WorkQueue.ts';
import { describeError, type Logger } from '../../../logger.ts';
import type { Services } from '../../../services/index.ts';
import { homeView, HOME_COUNTED } from '../blocks/homeView.ts';
import { explainError, type ErrorExplanation } from '../errorText.ts';
import type { InternalErrorAlert } from '../SlackNotifier.ts';

/**
 * The use cases the listeners call: requests (and decisions on them, and asking again), grants,
 * and the catalog behind the request modal's pickers. The edge is given nothing below them: no
 * store, no database.
 */
export type SlackServices = Pick<
  Services,
  'requests' | 'requestAgain' | 'revocations' | 'credentials' | 'catalog' | 'departures' | 'whole' | 'onBehalf' | 'breakGlass'
>;

/** What every listener works with: the services, the logger and the command's name. */
export interface SlackEdge {
  services: SlackServices;
  logger: Logger;
  /** The slash command as configured (`/access`). */
  command: string;
  /** Where work goes once Slack has its ack: bounded, so acks are never starved. */
  work: WorkQueue;
  /**
   * Where a change goes that Slack's ack waits for (it is acknowledged once recorded): apart
   * from `work`, so that it never waits behind work already acknowledged, and bounded too.
   */
  recording?: WorkQueue;
  /** Tells the admins what a person was spared (hosts, the connector, database errors). */
  alertAdmins?: (alert: InternalErrorAlert) => Promise<void>;
}

/**
 * Explains an error to a person; an unexpected one is logged first (sanitised), since the
 * person is shown no detail of it. One whose details are for admins only is logged and sent to
 * them: the person was told that the admins know.
 */
export function explainAndLog(
  edge: SlackEdge,
  err: unknown,
  where: string,
  explain: (e: unknown) => ErrorExplanation = explainError,
): ErrorExplanation {
  const explained = explain(err);
  if (explained.unexpected) edge.logger.error({ where, err: describeError(err) }, 'Slack request failed');
  if (explained.forAdmins !== undefined) {
    edge.logger.warn({ where, err: describeError(err) }, 'Slack request failed; the admins are told');
    edge.alertAdmins?.({ where, details: explained.forAdmins }).catch((alertErr: unknown) => {
      edge.logger.warn({ where, err: describeError(alertErr) }, 'the admins could not be told');
    });
  }
  return explained;
}

/**
 * Publishes the person's Home tab as it stands: their requests and the approvals that wait for
 * them, with an optional notice on top (the outcome of a click made there).
 */
export async function publishHome(edge: SlackEdge, client: webApi.WebClient, userId: string, notice?: string): Promise<void> {
  const { requests } = edge.services;
  const [grants, pending, awaiting] = await Promise.all([
    requests.list(userId, { statuses: ['granted'], limit: HOME_COUNTED }),
    requests.list(userId, { statuses: ['pending'], limit: HOME_COUNTED }),
    requests.awaitingApproval(userId),
  ]);
  const mine = [...grants, ...pending];
  await client.views.publish({
    user_id: userId,
    view: homeView({ mine, awaiting, command: edge.command, ...(notice ? { notice } : {}) }),
  });
}

/**
 * How long the edge waits for a change to be recorded before acknowledging anyway: Slack wants
 * the ack within 3 seconds, and a person told nothing at all would try again.
 */
const ACK_DEADLINE_MS = 2500;

/**
 * Runs `work` and acknowledges Slack once the work says that what it asked for is recorded (any
 * replica can then finish it), or once it settles, or at the deadline; `acked` settles when the
 * ack is sent, `done` when the work is.
 */
function ackWhenRecorded(ack: () => Promise<void>, work: () => Promise<void>): { acked: Promise<void>; done: Promise<void> } {
  const run = runRecorded(work);
  return { acked: settleWithin(run.recorded, ACK_DEADLINE_MS).then(() => ack()), done: run.done };
}

/**
 * How a Slack entry point acknowledges (PRODUCT.md §7): work that changes something
 * (`recordedFirst`) once it is recorded, within the deadline; anything else at once, before the
 * work starts (`started`). `beforeAnswer` is awaited before anything is said back to the person:
 * work ready to answer has recorded all it will (an error, or a request already at its end), so
 * the ack need not wait for its deadline.
 */
export function acknowledging(ack: () => Promise<void>, recordedFirst: boolean) {
  let answered: Promise<void> = recordedFirst ? Promise.resolve() : ack();
  return {
    started: answered,
    async beforeAnswer(): Promise<void> {
      markRecorded();
      await answered;
    },
    /** Runs the work; for recorded-first work, acknowledges once it is recorded. */
    async run(work: () => Promise<void>): Promise<void> {
      if (!recordedFirst) return work();
      const run = ackWhenRecorded(ack, work);
      answered = run.acked;
      await Promise.all([run.acked, run.done]);
    },
  };
}

/**
 * Waits for `work` at most `ms`: Slack needs an answer to a view submission within 3 seconds,
 * and a grant that needs no approval may take longer than that. `undefined` means "still
 * running"; the caller answers Slack and lets the work finish.
 */
export async function settleWithin<T>(work: Promise<T>, ms: number): Promise<{ value: T } | { error: unknown } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([
      work.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
