/**
 * Sends what people do in Slack to an app in Socket Mode, as envelopes on its WebSocket to the
 * SlackStandIn: slash commands as `slash_commands`, block_actions, view_submission and
 * block_suggestion as `interactive`, Events API callbacks as `events_api`. The payloads are the
 * ones SignedAppDriver posts over HTTP; each call resolves with the app's ack (its `payload`, when it
 * answered with one) and the ack's latency.
 */
import type { SlackStandIn } from './SlackStandIn.ts';
import type { SocketAck } from './SocketModeServer.ts';
import { AppDriver } from './AppDriver.ts';
import type { AppAnswer, Delivery } from './interactionPayloads.ts';

export class SocketModeDriver extends AppDriver<SocketAck> {
  constructor(
    standIn: SlackStandIn,
    private readonly options: { connectionId?: number; timeoutMs?: number } = {},
  ) {
    super(standIn);
  }

  /** The same driver, sending on one connection (otherwise the open connections take turns, as Slack spreads envelopes). */
  on(connectionId: number): SocketModeDriver {
    return new SocketModeDriver(this.standIn, { ...this.options, connectionId });
  }

  protected deliver(delivery: Delivery): Promise<SocketAck> {
    const socket = this.standIn.socketMode;
    switch (delivery.kind) {
      case 'command':
        return socket.send('slash_commands', delivery.fields, this.options);
      case 'interaction':
        return socket.send('interactive', delivery.payload, this.options);
      case 'event':
        return socket.send('events_api', delivery.body, this.options);
    }
  }

  answerOf(ack: SocketAck): AppAnswer {
    return { accepted: true, body: ack.payload };
  }
}
