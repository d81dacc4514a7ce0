/**
 * Drives a Bolt HTTP endpoint (`/slack/events`) the way Slack does: slash commands and
 * interactivity as `application/x-www-form-urlencoded` bodies (interactivity as one `payload=`
 * field of JSON), Events API callbacks as JSON, each signed as Slack's "Verifying requests from
 * Slack" describes: `X-Slack-Request-Timestamp` and `X-Slack-Signature: v0=` + the hex
 * HMAC-SHA256 of `v0:{timestamp}:{raw body}` keyed with the signing secret.
 *
 * trigger_ids and response_urls come from the SlackStandIn the app talks to, so what the app does
 * with them (views.open, respond()) lands in the standIn. `forged` and `stale` give the same driver
 * with a wrong signature or a timestamp six minutes old, for proving the app refuses them.
 */
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { SlackStandIn } from './SlackStandIn.ts';
import { AppDriver } from './AppDriver.ts';
import { type AppAnswer, type Delivery, urlVerificationBody } from './interactionPayloads.ts';

export type {
  BlockActionInput,
  BlockSuggestionInput,
  FormValues,
  SelectedOption,
  SlashCommandInput,
  Surface,
  ViewSubmissionInput,
} from './interactionPayloads.ts';

export interface SignedAppDriverOptions {
  /** The app's events URL, e.g. `http://127.0.0.1:PORT/slack/events`. */
  url: string;
  signingSecret: string;
  standIn: SlackStandIn;
}

/** The app's HTTP acknowledgement and how long it took. */
export interface SlackAck {
  status: number;
  /** The raw response body ('' for a bare ack()). */
  body: string;
  /** The body parsed, when the app answered JSON. */
  json: unknown;
  /** Milliseconds from sending the request to the whole response (Slack gives up after 3,000). */
  ms: number;
}

type Signing = 'valid' | 'forged' | 'stale';

/** Slack refuses requests whose timestamp is more than five minutes off; six is clearly stale. */
const STALE_BY_SECONDS = 6 * 60;

/** Sends what Slack sends to a Bolt app's events endpoint, signed. */
export class SignedAppDriver extends AppDriver<SlackAck> {
  private readonly signing: Signing;

  constructor(
    private readonly options: SignedAppDriverOptions,
    signing: Signing = 'valid',
  ) {
    super(options.standIn);
    this.signing = signing;
  }

  /** The same driver, signing with a wrong secret. */
  get forged(): SignedAppDriver {
    return new SignedAppDriver(this.options, 'forged');
  }

  /** The same driver, with a timestamp six minutes old (correctly signed). */
  get stale(): SignedAppDriver {
    return new SignedAppDriver(this.options, 'stale');
  }

  /** Signs and POSTs a raw body, returning the ack and its latency. */
  async send(body: string, contentType: 'application/x-www-form-urlencoded' | 'application/json'): Promise<SlackAck> {
    const timestamp = Math.floor(Date.now() / 1000) - (this.signing === 'stale' ? STALE_BY_SECONDS : 0);
    const secret = this.signing === 'forged' ? `${this.options.signingSecret}-forged` : this.options.signingSecret;
    const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    const started = performance.now();
    const res = await fetch(this.options.url, {
      method: 'POST',
      headers: { 'Content-Type': contentType, 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': signature },
      body,
    });
    const text = await res.text();
    const ms = performance.now() - started;
    let json: unknown;
    if (res.headers.get('content-type')?.includes('json') && text.length > 0) json = JSON.parse(text);
    return { status: res.status, body: text, json, ms };
  }

  /**
   * Slash commands as form fields; interactivity as one `payload=` field of JSON, both
   * `application/x-www-form-urlencoded`; Events API callbacks as JSON.
   */
  protected deliver(delivery: Delivery): Promise<SlackAck> {
    const form = (fields: Record<string, string>) => this.send(new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded');
    switch (delivery.kind) {
      case 'command':
        return form(delivery.fields);
      case 'interaction':
        return form({ payload: JSON.stringify(delivery.payload) });
      case 'event':
        return this.send(JSON.stringify(delivery.body), 'application/json');
    }
  }

  answerOf(ack: SlackAck): AppAnswer {
    return { accepted: ack.status === 200, body: ack.json };
  }

  /** The url_verification handshake Slack sends when the events URL is saved; the app echoes the challenge. */
  urlVerification(challenge = 'standIn-challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P'): Promise<SlackAck> {
    return this.send(JSON.stringify(urlVerificationBody(challenge)), 'application/json');
  }
}
