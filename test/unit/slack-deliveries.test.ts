import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App, type Receiver, type ReceiverEvent } from '@slack/bolt';
import { MemoryDeliveryLog } from '../../src/adapters/local/LocalCoordination.ts';
import { deliveryKey, handleEachDeliveryOnce } from '../../src/adapters/slack/deliveries.ts';
import type { DeliveryLog } from '../../src/ports/Coordination.ts';
import { capturingLogger } from '../support/logs.ts';

/** A receiver that hands Bolt what the test gives it, as the HTTP and Socket Mode receivers do. */
class HandingReceiver implements Receiver {
  app!: App;
  init(app: App): void {
    this.app = app;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

function commandBody(triggerId: string) {
  return {
    token: 'verification',
    team_id: 'T1',
    team_domain: 'corp',
    channel_id: 'C1',
    channel_name: 'general',
    user_id: 'U1',
    user_name: 'alice',
    command: '/access',
    text: 'list',
    api_app_id: 'A1',
    response_url: 'http://127.0.0.1:9/response',
    trigger_id: triggerId,
  };
}

function eventBody(eventId: string) {
  return {
    token: 'verification',
    team_id: 'T1',
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: eventId,
    event_time: 1,
    event: { type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home' },
  };
}

/** The real Bolt app with the delivery check in front, counting what its listeners see. */
function boltWith(deliveries: DeliveryLog, now: () => Date = () => new Date()) {
  const receiver = new HandingReceiver();
  const app = new App({ token: 'xoxb-test', receiver, tokenVerificationEnabled: false, botId: 'B1', botUserId: 'UBOT' });
  const { logger, lines } = capturingLogger('info');
  handleEachDeliveryOnce(app, deliveries, logger, now);
  const handled = { commands: 0, events: 0 };
  app.command('/access', async ({ ack }) => {
    handled.commands++;
    await ack();
  });
  app.event('app_home_opened', async () => {
    handled.events++;
  });
  const deliver = async (body: Record<string, unknown>, retryNum?: number) => {
    let acked = 0;
    const event: ReceiverEvent = { body, ack: async () => void acked++, ...(retryNum ? { retryNum, retryReason: 'http_timeout' } : {}) };
    await receiver.app.processEvent(event);
    return acked;
  };
  return { deliver, handled, lines };
}

describe('each Slack delivery handled once', { timeout: 30_000 }, () => {
  it('keys events by event ID and interactions by trigger ID; option lists have no key', () => {
    assert.equal(deliveryKey(eventBody('Ev1')), 'event:Ev1');
    assert.equal(deliveryKey(commandBody('T.1')), 'trigger:T.1');
    assert.equal(deliveryKey({ type: 'block_suggestion', value: 'ap' }), undefined);
  });

  it("acknowledges Slack's retry of a command or an event without handling it again", async () => {
    const { deliver, handled, lines } = boltWith(new MemoryDeliveryLog());
    assert.equal(await deliver(commandBody('trig-1')), 1);
    assert.equal(await deliver(commandBody('trig-1'), 1), 1, 'the retry is acknowledged, so Slack stops sending it');
    assert.equal(await deliver(commandBody('trig-2')), 1);
    await deliver(eventBody('Ev1'));
    await deliver(eventBody('Ev1'), 1);
    await deliver(eventBody('Ev1'), 2);
    assert.deepEqual(handled, { commands: 2, events: 1 });
    assert.ok(lines.some((l) => /not handled again/.test(l) && /"retryNum":1/.test(l)));
  });

  it('handles a payload again when whoever took it never acknowledged it (it died), and not after an ack', async () => {
    const deliveries = new MemoryDeliveryLog();
    let now = new Date('2026-12-01T10:00:00Z');
    const { deliver, handled } = boltWith(deliveries, () => now);
    // Another replica took these and died before answering Slack.
    assert.equal(await deliveries.take('trigger:lost', now), true);
    assert.equal(await deliveries.take('trigger:answered', now), true);
    await deliveries.acknowledged('trigger:answered');
    now = new Date(now.getTime() + 1000);
    await deliver(commandBody('lost'), 1);
    assert.equal(handled.commands, 0, 'too soon: the taker may still be at work');
    now = new Date(now.getTime() + 5000);
    await deliver(commandBody('lost'), 2);
    await deliver(commandBody('answered'), 2);
    assert.equal(handled.commands, 1);
  });

  it('leaves a payload unacknowledged and unhandled when the state cannot be reached', async () => {
    const unreachable: DeliveryLog = {
      take: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      },
      acknowledged: async () => {},
    };
    const { deliver, handled, lines } = boltWith(unreachable);
    assert.equal(await deliver(commandBody('trig-x')), 0);
    assert.equal(handled.commands, 0);
    assert.ok(lines.some((l) => /left unanswered: the state cannot be reached/.test(l)));
  });
});
