/**
 * Sends what people do in Slack to an app in Socket Mode, as envelopes on its WebSocket to the
 * FakeSlack: slash commands as `slash_commands`, block_actions, view_submission and
 * block_suggestion as `interactive`, Events API callbacks as `events_api`. The payloads are the
 * ones SlackDriver posts over HTTP; each call resolves with the app's ack (its `payload`, when it
 * answered with one) and the ack's latency.
 */
import type { FakeSlack } from './FakeSlack.ts';
import type { SocketAck } from './FakeSocketMode.ts';
import { InteractionDriver, type AppAnswer, type Delivery } from './slackPayloads.ts';

export class SocketModeDriver extends InteractionDriver<SocketAck> {
  constructor(
    fake: FakeSlack,
    private readonly options: { connectionId?: number; timeoutMs?: number } = {},
  ) {
    super(fake);
  }

  /** The same driver, sending on one connection (the newest open one otherwise). */
  on(connectionId: number): SocketModeDriver {
    return new SocketModeDriver(this.fake, { ...this.options, connectionId });
  }

  protected deliver(delivery: Delivery): Promise<SocketAck> {
    const socket = this.fake.socketMode;
    switch (delivery.kind) {
      case 'command':
        return socket.send('slash_commands', delivery.fields, this.options);
      case 'interaction':
        return socket.send('interactive', delivery.payload, this.options);
      case 'event':
        return socket.send('events_api', delivery.body, this.options);
    }
  }

  protected answerOf(ack: SocketAck): AppAnswer {
    return { accepted: true, body: ack.payload };
  }
}
