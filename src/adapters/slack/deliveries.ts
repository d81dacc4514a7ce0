import type { App, ReceiverEvent } from '@slack/bolt';
import { describeError, type Logger } from '../../logger.ts';
import type { DeliveryLog } from '../../ports/Coordination.ts';

/**
 * What stays the same when Slack sends a payload again: the event's ID for the Events API
 * (retried with X-Slack-Retry-Num when an answer is late or fails), the trigger's ID for a
 * command, a click or a form (redelivered in Socket Mode when an envelope is not acknowledged).
 * Option lists and other payloads without either only read, and are answered each time.
 */
export function deliveryKey(body: Record<string, unknown>): string | undefined {
  if (typeof body.event_id === 'string' && body.event_id) return `event:${body.event_id}`;
  if (typeof body.trigger_id === 'string' && body.trigger_id) return `trigger:${body.trigger_id}`;
  return undefined;
}

/**
 * Makes each Slack payload handled once across every replica (PRODUCT.md §7): the receiver's
 * events go through the delivery log before Bolt sees them. A payload some replica took already
 * is acknowledged (Slack stops sending it) and not handled again; one whose taker never
 * acknowledged it for a while is handled here (its taker died). When the shared state cannot be
 * reached the payload is left unacknowledged: nothing is acknowledged that cannot be recorded,
 * and Slack tries again.
 */
export function handleEachDeliveryOnce(app: App, deliveries: DeliveryLog, logger: Logger, now: () => Date = () => new Date()): void {
  const processEvent = app.processEvent.bind(app);
  app.processEvent = async (event: ReceiverEvent): Promise<void> => {
    const key = deliveryKey(event.body);
    if (!key) return processEvent(event);
    let first: boolean;
    try {
      first = await deliveries.take(key, now());
    } catch (err) {
      logger.warn(
        { err: describeError(err), retryNum: event.retryNum },
        'a Slack request was left unanswered: the state cannot be reached',
      );
      return;
    }
    if (!first) {
      logger.info(
        { delivery: key, retryNum: event.retryNum, retryReason: event.retryReason },
        'Slack sent again what a replica took already: acknowledged, not handled again',
      );
      await event.ack();
      return;
    }
    const ack = event.ack;
    return processEvent({
      ...event,
      ack: async (response?: unknown) => {
        await ack(response);
        await deliveries.acknowledged(key).catch((err: unknown) => {
          logger.warn({ delivery: key, err: describeError(err) }, 'a Slack acknowledgement could not be recorded');
        });
      },
    });
  };
}
